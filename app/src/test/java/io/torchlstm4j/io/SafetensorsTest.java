package io.torchlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.torchlstm4j.io.TensorAssertions.assertSameTensors;
import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {

    @TempDir
    Path dir;

    private static Map<String, INDArray> sampleTensors() {
        Nd4j.getRandom().setSeed(7);
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("weight_ih_l0", Nd4j.rand(DataType.FLOAT, 8, 3));
        tensors.put("z_double", Nd4j.rand(DataType.DOUBLE, 2, 3, 4));
        tensors.put("lengths", Nd4j.createFromArray(Long.MIN_VALUE, -1L, 0L, Long.MAX_VALUE));
        tensors.put("a_scalar", Nd4j.scalar(2.5f));
        tensors.put("long_scalar", Nd4j.scalar(-5L));
        tensors.put("double_scalar", Nd4j.scalar(Math.PI));
        tensors.put("empty", Nd4j.create(DataType.FLOAT, 0, 3));
        tensors.put("transposed_view", Nd4j.rand(DataType.FLOAT, 3, 5).transpose());
        tensors.put("ünïcode name", Nd4j.rand(DataType.DOUBLE, 2));
        return tensors;
    }

    /** F16 and BF16 (NaN, infinities, subnormals, -0 included) as PyTorch's own .float() of them, bit for bit. */
    @Test
    void readsHalfPrecisionAsPyTorchWidensIt() throws IOException {
        assertSameTensors(Safetensors.read(resource("pt/half.expected.safetensors")).tensors(),
                Safetensors.read(resource("pt/half.safetensors")).tensors());
    }

    @Test
    void roundTripKeepsDtypesShapesExactValuesOrderAndMetadataAndRewritesByteIdentical() throws IOException {
        Map<String, INDArray> tensors = sampleTensors();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("torch_version", "1.13.0");
        metadata.put("note", "ü \"quoted\" ✓");
        Path first = dir.resolve("first.safetensors");
        Safetensors.write(first, tensors, metadata);

        TensorFile read = Safetensors.read(first);
        assertSameTensors(tensors, read.tensors());
        assertEquals(metadata, read.metadata());
        assertEquals(List.copyOf(metadata.keySet()), List.copyOf(read.metadata().keySet()));
        assertEquals(DataType.LONG, read.tensors().get("lengths").dataType());

        Path second = dir.resolve("second.safetensors");
        Safetensors.write(second, read);
        assertEquals(-1, Files.mismatch(first, second), "write(read(write(x))) differs from write(x)");
    }

    @Test
    void headerIsPaddedWithSpacesAndDataIsLittleEndianInCOrderAndInsertionOrder() throws IOException {
        INDArray view = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}}).transpose(); // [[1,4],[2,5],[3,6]]
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("b", view);
        tensors.put("a", Nd4j.createFromArray(7L));
        Path file = dir.resolve("x.safetensors");
        Safetensors.write(file, tensors, Map.of("k", "v"));

        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bytes.getLong();
        assertEquals(0, n % 8, "header length " + n + " is a multiple of 8");
        String header = new String(Arrays.copyOfRange(bytes.array(), 8, 8 + n), StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{") && header.stripTrailing().endsWith("}"), header);
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '), header);
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals(List.of("__metadata__", "b", "a"), iterate(json.fieldNames()));
        assertEquals("F32", json.get("b").get("dtype").asText());
        assertEquals("[3,2]", json.get("b").get("shape").toString());
        assertEquals("[0,24]", json.get("b").get("data_offsets").toString());
        assertEquals("{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]}", json.get("a").toString());
        bytes.position(8 + n);
        for (float expected : new float[] {1, 4, 2, 5, 3, 6}) {
            assertEquals(expected, bytes.getFloat());
        }
        assertEquals(7L, bytes.getLong());
        assertFalse(bytes.hasRemaining());
    }

    @Test
    void rewritingFilesWrittenByPythonGivesTheSameBytes() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Stream.concat(Files.list(resource("fixtures")), Files.list(resource("weights")))) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(files.size() >= 9, "committed safetensors files: " + files);
        for (Path file : files) {
            Path copy = dir.resolve(file.getFileName());
            Safetensors.write(copy, Safetensors.read(file));
            assertEquals(-1, Files.mismatch(file, copy), file + " rewritten differs");
        }
    }

    @Test
    void writerNamesEveryTensorItCannotWriteAndWritesNothing() {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("ok", Nd4j.rand(DataType.FLOAT, 2));
        tensors.put("ints", Nd4j.createFromArray(1, 2, 3));
        tensors.put("halves", Nd4j.rand(DataType.FLOAT, 2).castTo(DataType.HALF));
        tensors.put("__metadata__", Nd4j.rand(DataType.FLOAT, 2));
        Path file = dir.resolve("bad.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(file, tensors, Map.of()));
        for (String expected : List.of("bad.safetensors", "'ints' has data type INT", "'halves' has data type HALF",
                "__metadata__")) {
            assertTrue(e.getMessage().contains(expected), "'" + expected + "' in: " + e.getMessage());
        }
        assertFalse(Files.exists(file));
    }

    private static List<String> iterate(java.util.Iterator<String> it) {
        List<String> list = new java.util.ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}
