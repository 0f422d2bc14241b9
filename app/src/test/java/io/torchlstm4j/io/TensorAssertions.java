package io.torchlstm4j.io;

import org.nd4j.linalg.api.ndarray.INDArray;

import org.junit.jupiter.api.function.Executable;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exact comparisons of tensors (data type, shape and every bit of every element) and the test resources. */
public final class TensorAssertions {

    private TensorAssertions() {
    }

    /** A file or folder under app/src/test/resources. */
    public static Path resource(String path) {
        return Path.of("src", "test", "resources").resolve(path);
    }

    public static void assertSameTensor(String name, INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType(), name + " data type");
        assertArrayEquals(expected.shape(), actual.shape(), name + " shape");
        assertArrayEquals(TensorBytes.toBytes(expected), TensorBytes.toBytes(actual), name + " values");
    }

    /** Same keys in the same order, each tensor the same. */
    public static void assertSameTensors(Map<String, INDArray> expected, Map<String, INDArray> actual) {
        assertEquals(String.join(",", expected.keySet()), String.join(",", actual.keySet()), "keys in order");
        expected.forEach((name, tensor) -> assertSameTensor(name, tensor, actual.get(name)));
    }

    /** {@code read} throws a TensorFileException for {@code file} whose message starts with the file's name and holds every part. */
    public static void assertRejected(Path file, Executable read, String... parts) {
        TensorFileException e = assertThrows(TensorFileException.class, read);
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }
}
