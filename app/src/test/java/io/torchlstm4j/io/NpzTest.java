package io.torchlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static io.torchlstm4j.io.TensorAssertions.assertRejected;
import static io.torchlstm4j.io.TensorAssertions.assertSameTensor;
import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * .npz files written by numpy itself (tools/make_weight_samples.py) against the safetensors twins that the same
 * script wrote by hand, and a matrix of broken .npy entries.
 */
class NpzTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"lstm_l2", "lstm_bi_nobias_f64_compressed", "model_rnn_prefix", "arrays", "npy_versions"})
    void givesExactlyTheNumbersNumpyWrote(String sample) throws IOException {
        Map<String, INDArray> npz = Npz.read(resource("weights/" + sample + ".npz"));
        Map<String, INDArray> twin = Safetensors.read(resource("weights/" + sample + ".safetensors")).tensors();
        assertEquals(List.copyOf(twin.keySet()), List.copyOf(npz.keySet()), "names in savez order");
        twin.forEach((name, expected) -> {
            INDArray actual = npz.get(name);
            if (name.endsWith("_i4")) { // the twin widens int32 to I64
                assertEquals(DataType.INT, actual.dataType(), name);
                actual = actual.castTo(DataType.LONG);
            }
            assertSameTensor(sample + "/" + name, expected, actual);
        });
    }

    @Test
    void fortranOrderArraysComeBackInTheirLogicalLayout() throws IOException {
        Map<String, INDArray> arrays = Npz.read(resource("weights/arrays.npz"));
        INDArray f = arrays.get("fortran3_f4");
        assertArrayEquals(new long[] {2, 3, 4}, f.shape());
        assertEquals('c', f.ordering());
        assertEquals(0, arrays.get("scalar_f4").rank());
        assertArrayEquals(new long[] {0, 3}, arrays.get("empty_f4").shape());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "unsupported_big_endian.npz | array 'w' has dtype '>f4' (big-endian float32), which is not supported | a.astype('<f4')",
            "unsupported_bool.npz       | array 'mask' has dtype '|b1' (bool), which is not supported            | '<f4', '<f8', '<i8', '<i4'",
            "unsupported_object.npz     | array 'obj' has dtype '|O' (object: pickled Python objects, not numbers) | not supported",
            "unsupported_float16.npz    | array 'w' has dtype '<f2' (float16), which is not supported            | '<f4', '<f8', '<i8', '<i4'"})
    void refusesUnsupportedDtypesByName(String sample, String expected, String alsoExpected) {
        Path file = resource("weights/" + sample);
        assertRejected(file, () -> Npz.read(file), expected, alsoExpected);
    }

    /** A .npy entry: magic, version, header length (2 or 4 bytes), the header text as given, the data. */
    private static byte[] npy(int major, String header, byte[] data) {
        byte[] text = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) text.length); else b.putInt(text.length);
        b.put(text).put(data);
        return Arrays.copyOf(b.array(), b.position());
    }

    private static byte[] npy(String header, int dataBytes) {
        return npy(1, header, new byte[dataBytes]);
    }

    private static String header(String descr, String fortran, String shape) {
        return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
    }

    private static byte[] zip(String entry, byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry(entry));
            zip.write(content);
            zip.closeEntry();
        }
        return bytes.toByteArray();
    }

    /** Two entries a.npy and b.npy, then every "b.npy" in the archive renamed to "a.npy" (ZipOutputStream refuses duplicates). */
    private static byte[] zipWithDuplicateEntry(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String name : List.of("a.npy", "b.npy")) {
                zip.putNextEntry(new ZipEntry(name));
                zip.write(content);
                zip.closeEntry();
            }
        }
        String latin1 = bytes.toString(StandardCharsets.ISO_8859_1).replace("b.npy", "a.npy");
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    static Stream<Arguments> brokenFiles() throws IOException {
        byte[] valid = Files.readAllBytes(resource("weights/lstm_l2.npz"));
        return Stream.of(
                arguments("not a zip", "not a zip file at all".getBytes(), "is not a valid .npz (zip) file"),
                arguments("truncated archive", Arrays.copyOf(valid, valid.length / 2), "is not a valid .npz (zip) file"),
                arguments("entry that is not .npy", zip("notes.txt", new byte[3]), "entry 'notes.txt' is not a .npy array"),
                arguments("the same array twice", zipWithDuplicateEntry(npy(header("'<f4'", "False", "(1,)"), 4)),
                        "array 'a' appears twice in the archive"),
                arguments("bad magic", zip("a.npy", "PKNUMPY\1\0".getBytes()), "array 'a' does not start with the .npy magic"),
                arguments("format version 4", zip("a.npy", npy(4, header("'<f4'", "False", "(1,)"), new byte[4])),
                        "array 'a' has .npy format version 4.0 (1.0, 2.0 and 3.0 are supported)"),
                arguments("header length cut", zip("a.npy", Arrays.copyOf(npy("{}", 0), 9)),
                        "array 'a' ends inside its .npy header length"),
                arguments("header longer than the entry",
                        zip("a.npy", Arrays.copyOf(npy(1, "x".repeat(1000), new byte[0]), 50)),
                        "array 'a' declares a .npy header of 1000 bytes but only 40 follow"),
                arguments("header length of 2 GB", zip("a.npy", new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0,
                                (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, '{', '}'}),
                        "array 'a' declares a .npy header of 2147483647 bytes, more than the 1048576 accepted"),
                arguments("header not a dict", zip("a.npy", npy("[1, 2]", 0)), "has a .npy header that is not a Python dict literal (it is not a dict"),
                arguments("header cut short", zip("a.npy", npy("{'descr': '<f4', ", 0)), "not a Python dict literal (the text ends"),
                arguments("header missing shape", zip("a.npy", npy("{'descr': '<f4', 'fortran_order': False}", 0)),
                        "has .npy header keys [descr, fortran_order] but exactly [descr, fortran_order, shape]"),
                arguments("fortran_order not a bool", zip("a.npy", npy(header("'<f4'", "1", "(1,)"), 4)),
                        "array 'a' has fortran_order 1 but True or False was expected"),
                arguments("negative dimension", zip("a.npy", npy(header("'<f4'", "False", "(2, -1)"), 4)),
                        "array 'a' has shape [2, -1] but a tuple of non-negative integers was expected"),
                arguments("shape not a tuple", zip("a.npy", npy(header("'<f4'", "False", "'big'"), 4)),
                        "array 'a' has shape big but a tuple of non-negative integers"),
                arguments("structured dtype", zip("a.npy", npy(header("[('x', '<f4')]", "False", "(1,)"), 4)),
                        "array 'a' has the structured dtype [[x, <f4]], which is not supported"),
                arguments("complex dtype", zip("a.npy", npy(header("'<c8'", "False", "(1,)"), 8)),
                        "array 'a' has dtype '<c8' (complex64), which is not supported"),
                arguments("too few data bytes", zip("a.npy", npy(header("'<f4'", "False", "(3,)"), 8)),
                        "array 'a' has dtype '<f4' and shape [3], which needs 12 bytes of data (a .npy entry of 80 bytes), but the zip "
                                + "directory says the entry holds 76 bytes"),
                arguments("too many data bytes", zip("a.npy", npy(header("'<i8'", "False", "(1,)"), 16)),
                        "array 'a' has dtype '<i8' and shape [1], which needs 8 bytes of data (a .npy entry of 76 bytes), but the zip "
                                + "directory says the entry holds 84 bytes"),
                arguments("a shape claiming 400 MB over 8 bytes", zip("a.npy", npy(header("'<f4'", "False", "(100000000,)"), 8)),
                        "needs 400000000 bytes of data (a .npy entry of 400000076 bytes), but the zip directory says the entry holds 84 bytes"),
                arguments("a shape beyond one Java array", zip("a.npy", npy(header("'<f8'", "True", "(65536, 65536)"), 8)),
                        "array 'a' has dtype '<f8' and shape [65536, 65536], which needs 34359738368 bytes, more than the"),
                arguments("a shape overflowing 64 bits", zip("a.npy", npy(header("'<f4'", "False", "(4294967296, 4294967296)"), 8)),
                        "array 'a' has dtype '<f4' and shape [4294967296, 4294967296], which needs more than 2^63 bytes"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenFiles")
    void rejectsWithAMessageSayingWhatIsWrong(String name, byte[] content, String expected) throws IOException {
        Path file = dir.resolve(name.replace(' ', '_') + ".npz");
        Files.write(file, content);
        assertRejected(file, () -> Npz.read(file), expected);
    }
}
