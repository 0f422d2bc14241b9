package io.torchlstm4j.io;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static io.torchlstm4j.io.TensorAssertions.assertRejected;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** Every rule of the safetensors reader, one broken file each; the message must say what is wrong. */
class SafetensorsCorruptFileTest {

    @TempDir
    Path dir;

    /** 8-byte header length, the JSON header as given (padded with spaces to 8), then {@code dataBytes} zeros. */
    private static byte[] file(String json, int dataBytes) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(header);
        while (b.position() < 8 + padded) b.put((byte) ' ');
        return b.array();
    }

    private static byte[] lengthThen(long headerLength, byte[] rest) {
        return ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).put(rest)
                .array();
    }

    private static String f32(String name, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end
                + "]}";
    }

    static Stream<Arguments> corruptFiles() {
        return Stream.of(
                arguments("empty file", new byte[0], "0 bytes long, shorter than the 8-byte header length"),
                arguments("7 bytes", new byte[7], "7 bytes long, shorter than the 8-byte header length"),
                arguments("header length past the end", lengthThen(1000, "{}".getBytes()),
                        "header length 1000 points past the end of the file (10 bytes"),
                arguments("header length of a terabyte", lengthThen(1L << 40, new byte[16]),
                        "header length 1099511627776 points past the end"),
                arguments("header length above 2^63", lengthThen(-8, new byte[16]),
                        "header length 18446744073709551608 points past the end"),
                arguments("header not UTF-8", lengthThen(8, new byte[] {'{', '}', (byte) 0xff, ' ', ' ', ' ', ' ', ' '}),
                        "header is not valid UTF-8"),
                arguments("header not JSON", file("{\"a\": ", 0), "header is not valid JSON"),
                arguments("header with trailing tokens", file("{} {}", 0), "header is not valid JSON"),
                arguments("header empty", file("", 0), "header is empty, not a JSON object"),
                arguments("header an array", file("[1, 2]", 0), "header is a JSON array, not a JSON object"),
                arguments("duplicate tensor name", file("{" + f32("a", "[1]", 0, 4) + "," + f32("a", "[1]", 4, 8) + "}", 8),
                        "Duplicate field 'a'"),
                arguments("entry not an object", file("{\"a\":3}", 0),
                        "tensor 'a' is a JSON number, not an object with dtype, shape and data_offsets"),
                arguments("entry without dtype", file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                        "tensor 'a' has no dtype"),
                arguments("entry without shape", file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
                        "tensor 'a' has no shape"),
                arguments("entry without data_offsets", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
                        "tensor 'a' has no data_offsets"),
                arguments("entry with nothing", file("{\"a\":{}}", 0), "tensor 'a' has no dtype, no shape, no data_offsets"),
                arguments("unknown dtype", file("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                        "tensor 'a' has the unknown dtype \"F33\""),
                arguments("dtype not a string", file("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                        "tensor 'a' has the unknown dtype 4"),
                arguments("negative dimension", file("{" + f32("a", "[2,-2]", 0, 16) + "}", 16),
                        "tensor 'a' has the negative dimension -2 in shape [2, -2]"),
                arguments("fractional dimension", file("{" + f32("a", "[2.5]", 0, 8) + "}", 8),
                        "tensor 'a' shape is [2.5] but an array of 64-bit integers was expected"),
                arguments("dimension beyond 64 bits", file("{" + f32("a", "[100000000000000000000]", 0, 8) + "}", 8),
                        "tensor 'a' shape is [100000000000000000000] but an array of 64-bit integers"),
                arguments("shape not an array", file("{" + f32("a", "4", 0, 16) + "}", 16),
                        "tensor 'a' shape is 4 but an array of 64-bit integers"),
                arguments("shape product overflow", file("{" + f32("a", "[4294967296,4294967296]", 0, 8) + "}", 8),
                        "tensor 'a' has shape [4294967296, 4294967296], whose F32 byte count overflows"),
                arguments("byte count overflow", file("{" + f32("a", "[4611686018427387904]", 0, 8) + "}", 8),
                        "whose F32 byte count overflows a 64-bit integer"),
                arguments("byte count too small", file("{" + f32("a", "[2,3]", 0, 20) + "}", 20),
                        "tensor 'a' has data_offsets [0, 20], which is 20 bytes, but dtype F32 x shape [2, 3] needs 24 bytes"),
                arguments("byte count too large", file("{" + f32("a", "[2]", 0, 12) + "}", 12),
                        "which is 12 bytes, but dtype F32 x shape [2] needs 8 bytes"),
                arguments("offsets out of the buffer", file("{" + f32("a", "[2]", 0, 8) + "}", 4),
                        "tensor 'a' has data_offsets [0, 8], out of the data buffer of 4 bytes"),
                arguments("offsets far out of the buffer", file("{" + f32("a", "[1]", 1L << 50, (1L << 50) + 4) + "}", 4),
                        "out of the data buffer of 4 bytes"),
                arguments("offsets end before begin", file("{" + f32("a", "[0]", 8, 0) + "}", 8),
                        "tensor 'a' has data_offsets [8, 0] but [begin, end] with 0 <= begin <= end was expected"),
                arguments("offsets negative", file("{" + f32("a", "[1]", -4, 0) + "}", 8), "data_offsets [-4, 0]"),
                arguments("offsets of one value", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4),
                        "tensor 'a' has data_offsets [4] but [begin, end]"),
                arguments("overlapping tensors", file("{" + f32("a", "[2]", 0, 8) + "," + f32("b", "[2]", 4, 12) + "}", 12),
                        "tensors 'a' [0, 8) and 'b' [4, 12) overlap in the data buffer"),
                arguments("the same bytes twice", file("{" + f32("a", "[2]", 0, 8) + "," + f32("b", "[2]", 0, 8) + "}", 8),
                        "tensors 'a' [0, 8) and 'b' [0, 8) overlap"),
                arguments("a gap between tensors", file("{" + f32("a", "[2]", 0, 8) + "," + f32("b", "[2]", 12, 20) + "}", 20),
                        "bytes [8, 12) of the data buffer are not covered by any tensor"),
                arguments("trailing bytes", file("{" + f32("a", "[2]", 0, 8) + "}", 12),
                        "bytes [8, 12) at the end of the data buffer are not covered by any tensor"),
                arguments("data but no tensor", file("{}", 4),
                        "bytes [0, 4) at the end of the data buffer are not covered"),
                arguments("metadata not an object", file("{\"__metadata__\":3}", 0),
                        "__metadata__ is a JSON number, not an object of strings"),
                arguments("metadata value not a string", file("{\"__metadata__\":{\"k\":1}}", 0),
                        "__metadata__ must map strings to strings, but \"k\" is 1"),
                arguments("known but unsupported dtypes, all named",
                        file("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                                + "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                        "unsupported: tensor 'a' has dtype U8, tensor 'b' has dtype I32 (this library reads F32, F64, I64, F16 "
                                + "and BF16)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptFiles")
    void rejectsWithAMessageSayingWhatIsWrong(String name, byte[] content, String expected) throws IOException {
        Path file = dir.resolve(name.replace(' ', '_') + ".safetensors");
        Files.write(file, content);
        assertRejected(file, () -> Safetensors.read(file), expected);
    }
}
