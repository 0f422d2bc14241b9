package io.torchlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static io.torchlstm4j.io.TensorAssertions.assertRejected;
import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** Every rule of the checkpoint reader, one broken file each; the message must say what is wrong. */
class TorchCheckpointCorruptFileTest {

    private static final Path NAME = Path.of("broken.pt");

    // ---- pickles, assembled opcode by opcode ----

    private static String global(String module, String name) {
        return "c" + module + "\n" + name + "\n";
    }

    private static String str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return "X" + le4(b.length) + new String(b, StandardCharsets.ISO_8859_1);
    }

    /** BININT, or LONG1 of 8 bytes where the value needs them. */
    private static String integer(long n) {
        if (n == (int) n) {
            return "J" + le4((int) n);
        }
        return "\u008a\u0008" + new String(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array(),
                StandardCharsets.ISO_8859_1);
    }

    private static String le4(int n) {
        return new String(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(n).array(),
                StandardCharsets.ISO_8859_1);
    }

    private static String tuple(long... values) {
        StringBuilder s = new StringBuilder("(");
        for (long v : values) s.append(integer(v));
        return s.append("t").toString();
    }

    /** _rebuild_tensor_v2 of storage {@code key} ({@code numel} elements of {@code storageType}) as a view. */
    private static String tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        return global("torch._utils", "_rebuild_tensor_v2") + "((" + str("storage") + global("torch", storageType)
                + str(key) + str("cpu") + integer(numel) + "tQ" + integer(offset) + tuple(size) + tuple(stride)
                + "\u0089" + global("collections", "OrderedDict") + ")RtR";
    }

    /** A state_dict pickle: an OrderedDict of the given name -> value opcodes. */
    private static String stateDict(String... namesAndValues) {
        StringBuilder s = new StringBuilder("\u0080\u0002" + global("collections", "OrderedDict") + ")R(");
        for (int i = 0; i < namesAndValues.length; i += 2) s.append(str(namesAndValues[i])).append(namesAndValues[i + 1]);
        return s.append("u.").toString();
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A zip checkpoint: archive/data.pkl, archive/version, and archive/data/KEY per storage. */
    private static byte[] zip(String pickle, Map<String, byte[]> extra) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", bytes(pickle));
        entries.put("archive/version", bytes("3\n"));
        entries.putAll(extra);
        return zipOf(entries);
    }

    private static byte[] zipOf(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] zip(String pickle) {
        return zip(pickle, Map.of());
    }

    private static byte[] fixture(String name) {
        try {
            return Files.readAllBytes(resource("pt").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String floats(int n) {
        return new String(new byte[4 * n], StandardCharsets.ISO_8859_1);
    }

    static Stream<Arguments> corruptFiles() {
        byte[] legacy = fixture("views_legacy.pt");
        byte[] viewsZip = fixture("views_zip.pt");
        String w = tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1});
        Map<String, byte[]> six = Map.of("archive/data/0", new byte[24]);
        byte[] legacyCount = legacy.clone();
        int firstCount = legacyCountPosition(legacy);
        legacyCount[firstCount] += 1;
        byte[] crc = viewsZip.clone();
        crc[dataStart(viewsZip) + 3] ^= 1;
        String deep = "\u0080\u0002" + "(".repeat(SafeUnpickler.MAX_MARK_DEPTH + 1);
        return Stream.of(
                arguments("empty file", new byte[0], "not a PyTorch checkpoint: neither a zip archive (torch.save since "
                        + "PyTorch 1.6) nor a legacy torch.save file (a pickle of the magic number); it starts with "
                        + "nothing (it is empty)"),
                arguments("text", bytes("hello"), "it starts with 0x68656c6c6f"),
                arguments("zip cut in half", Arrays.copyOf(viewsZip, viewsZip.length / 2),
                        "is not a valid zip archive: it has no zip end-of-central-directory record"),
                arguments("storage byte flipped", crc, "(the file is damaged)"),
                arguments("legacy cut in its storages", Arrays.copyOf(legacy, legacy.length - 5),
                        "runs past the end of the file"),
                arguments("legacy with a byte after its storages", Arrays.copyOf(legacy, legacy.length + 1),
                        "has 1 bytes after its last storage"),
                arguments("legacy element count changed", legacyCount, "but the data pickle declares"),
                arguments("legacy cut in its pickles", Arrays.copyOf(legacy, 100), "(the pickle is truncated)"),
                arguments("no data.pkl", zipOf(Map.of("archive/version", bytes("3\n"))),
                        "it has no entry 'archive/data.pkl' (entries: [archive/version])"),
                arguments("no version", zipOf(Map.of("archive/data.pkl", bytes(stateDict("w", w)))),
                        "it has no entry 'archive/version'"),
                arguments("two top folders", zip(stateDict(), Map.of("other/x", new byte[1])),
                        "its entries must all lie in one top folder"),
                arguments("bad version", zipOf(Map.of("a/data.pkl", bytes("N."), "a/version", bytes("three"))),
                        "its entry 'a/version' holds 'three' but a format version number was expected"),
                arguments("bad byteorder", zip(stateDict("w", w), Map.of("archive/data/0", new byte[24],
                        "archive/byteorder", bytes("middle"))), "holds 'middle' but 'little' or 'big' was expected"),
                arguments("TorchScript", zip("N.", Map.of("archive/constants.pkl", bytes("N."))),
                        "is a TorchScript archive (torch.jit.save), not a checkpoint"),
                arguments("storage entry missing", zip(stateDict("w", w)),
                        "the pickle names storage '0' but there is no entry 'archive/data/0'"),
                arguments("storage shorter than declared", zip(stateDict("w", w), Map.of("archive/data/0", new byte[20])),
                        "storage '0' declares 6 elements of float32 (24 bytes) but its entry 'archive/data/0' holds 20 "
                                + "bytes"),
                arguments("view past its storage", zip(stateDict("w", tensor("FloatStorage", "0", 6, 1,
                        new long[] {2, 3}, new long[] {3, 1})), six),
                        "tensor 'w' (size [2, 3], stride [3, 1], storage offset 1) reaches element 6 of storage '0', "
                                + "which holds 6 elements of float32"),
                arguments("view overflowing 64 bits", zip(stateDict("w", tensor("FloatStorage", "0", 6, 0,
                        new long[] {3, 2}, new long[] {Integer.MAX_VALUE, Integer.MAX_VALUE})), six),
                        "reaches element"),
                arguments("expanded past the budget", zip(stateDict("w", tensor("FloatStorage", "0", 6, 0,
                        new long[] {10_000_000}, new long[] {0})), six),
                        "tensor 'w' needs 40000000 bytes, beyond the"),
                arguments("expanded past an array", zip(stateDict("w", tensor("FloatStorage", "0", 6, 0,
                        new long[] {1 << 30, 4}, new long[] {0, 0})), six),
                        "tensor 'w' has 4294967296 elements, more than one Java array holds as FLOAT"),
                arguments("storage named with two dtypes", zip(stateDict("w", w, "v", tensor("DoubleStorage", "0", 3, 0,
                        new long[] {3}, new long[] {1})), six), "storage '0' is named as 3 x float64 and as 6 x float32"),
                arguments("storage larger than the file", zip(stateDict("w", tensor("FloatStorage", "0", 1L << 40, 0,
                        new long[] {1}, new long[] {1}))), "storage '0' declares 1099511627776 elements of float32, "
                        + "more bytes than the file holds"),
                arguments("unsupported dtype", zip(stateDict("w", tensor("ByteStorage", "0", 24, 0, new long[] {24},
                        new long[] {1})), six), "unsupported dtype of tensor 'w' (uint8)"),
                arguments("persistent id of another kind", zip("\u0080\u0002(" + str("rogue") + "tQ."),
                        "a persistent id is ('rogue') but ('storage', storage_type, key, location, numel) was expected"),
                arguments("no state_dict", zip("\u0080\u0002J\u0003\u0000\u0000\u0000."),
                        "holds no state_dict (a dict of tensors under string keys): it holds a int"),
                arguments("REDUCE of a non-callable", zip("\u0080\u0002" + integer(1) + ")R."),
                        "REDUCE calling a int (only the allowed constructors and rebuild functions may be called)"),
                arguments("REDUCE of a storage type", zip("\u0080\u0002" + global("torch", "FloatStorage") + ")R."),
                        "REDUCE calling a torch.FloatStorage"),
                arguments("stack underflow", zip("\u0080\u0002R."), "REDUCE needs 1 values but the stack holds 0"),
                arguments("GET never PUT", zip("\u0080\u0002h\u0005."), "GET of memo entry 5, which was never PUT"),
                arguments("POP", zip("\u0080\u0002N0."), "the opcode 0x30 (POP), which does not rebuild tensors"),
                arguments("INST", zip("\u0080\u0002(ios\nsystem\n."), "the opcode 0x69 (INST)"),
                arguments("string longer than the pickle", zip("\u0080\u0002X\u00ff\u00ff\u00ff\u00ff."),
                        "a length of 4294967295 bytes where 1 are left"),
                arguments("BINUNICODE8 of 2^63", zip("\u0080\u0002\u008d\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0080."),
                        "a length of 9223372036854775808 bytes where 1 are left"),
                arguments("string not UTF-8", zip("\u0080\u0002X\u0001\u0000\u0000\u0000\u00ff."),
                        "a string that is not valid UTF-8"),
                arguments("MARKs too deep", zip(deep), "MARKs nested more than 256 deep"),
                arguments("too many values", zip("\u0080\u0002" + "N".repeat(SafeUnpickler.MAX_STACK + 1)),
                        "more than 1000000 values on the stack"),
                arguments("STOP with two values", zip("\u0080\u0002NN."),
                        "STOP with 2 values on the stack (exactly one value expected)"),
                arguments("STOP inside a MARK", zip("\u0080\u0002N(."), "STOP with an unclosed MARK"),
                arguments("tuple as a dict key", zip("\u0080\u0002})Ns."),
                        "a dict key or set item that is a tuple (a string or number expected)"),
                arguments("SETITEM on a tuple", zip("\u0080\u0002)NNs."), "SETITEM(S) on a tuple (a dict expected)"),
                arguments("list as a dict key", zip("\u0080\u0002}]Ns."),
                        "a dict key or set item that is a list (a string or number expected)"),
                arguments("protocol 9", zip("\u0080\u0009N."), "pickle protocol 9"),
                arguments("bytes after STOP", zip(stateDict("w", w) + "N", six), "has 1 bytes after its end (STOP)"),
                arguments("GLOBAL not ASCII", zip("\u0080\u0002cos\u00e9\nsystem\n."),
                        "a GLOBAL whose names are not printable ASCII lines"),
                arguments("tensor with size and stride of different lengths", zip(stateDict("w",
                        tensor("FloatStorage", "0", 6, 0, new long[] {6}, new long[] {1, 1})), six),
                        "size [6] and stride [1, 1] of different lengths"),
                arguments("rank beyond ND4J's", zip(stateDict("w", tensor("FloatStorage", "0", 6, 0, new long[33],
                        new long[33])), six), "size a tuple of 33 but a tuple of at most 32 integers was expected"),
                arguments("negative offset", zip(stateDict("w", tensor("FloatStorage", "0", 6, -1, new long[] {1},
                        new long[] {1})), six), "storage_offset = -1 but a non-negative 64-bit integer was expected"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptFiles")
    void refusesWithAMessage(String what, byte[] content, String message) {
        assertRejected(NAME, () -> TorchCheckpoint.read(content, NAME.toString()), message);
    }

    @Test
    void boundsInflationByTheFileSize() {
        // 64 MiB of zeros deflate to some 64 KiB: inflating is charged to the budget before any array is made
        byte[] bomb = zip(stateDict(), Map.of("archive/data/0", new byte[64 << 20]));
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", new byte[64 << 20]);
        entries.put("archive/version", bytes("3\n"));
        byte[] pickleBomb = zipOf(entries);
        assertRejected(NAME, () -> TorchCheckpoint.read(pickleBomb, NAME.toString()),
                "inflating entry 'archive/data.pkl' needs 67108864 bytes, beyond the");
        assertEquals(true, bomb.length < 1 << 20);
    }

    @Test
    void aSelfReferentialListIsNoStateDict() {
        // l = []; l.append(l): walked without recursion
        assertRejected(NAME, () -> TorchCheckpoint.read(zip("\u0080\u0002]q\u0000h\u0000a."), NAME.toString()),
                "holds no state_dict (a dict of tensors under string keys): it holds a list");
    }

    /** The position of the first storage's 8-byte element count in a legacy file: after the storage-keys pickle. */
    private static int legacyCountPosition(byte[] legacy) {
        int stops = 0;
        for (int i = 0; i < legacy.length; i++) {
            // the fixture's five pickles each end with '.' right before the next PROTO (0x80 0x02) or the counts
            if (legacy[i] == '.' && (i + 1 == legacy.length || legacy[i + 1] == (byte) 0x80 || stops == 4)) {
                if (++stops == 5) return i + 1;
            }
        }
        throw new IllegalStateException("no storage counts found");
    }

    /** The first byte of storage 0's data in a zip fixture: after its local header (the first mention of its name). */
    private static int dataStart(byte[] zip) {
        byte[] name = "archive/data/0".getBytes(StandardCharsets.US_ASCII);
        for (int i = 30; i + name.length <= zip.length; i++) {
            if (Arrays.equals(zip, i, i + name.length, name, 0, name.length)) {
                int extraLength = Short.toUnsignedInt(ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).getShort(i - 2));
                return i + name.length + extraLength;
            }
        }
        throw new IllegalStateException("no entry archive/data/0");
    }
}
