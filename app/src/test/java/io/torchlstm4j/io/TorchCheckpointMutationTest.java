package io.torchlstm4j.io;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.SplittableRandom;

import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Mutated checkpoints (bit flips, truncations, random bytes, large integers written over sizes and offsets, spliced
 * pickle opcodes) give the state_dict or a TensorFileException with a message, nothing else. A smoke run of the
 * reader's own; the project's fuzzing harness runs the full counts. {@code -Dpt.mutations=N} sets the count.
 */
class TorchCheckpointMutationTest {

    private static final int COUNT = Integer.getInteger("pt.mutations", 400);
    private static final byte[] OPCODES = "()NJKMX.tRbhqQsue]}c\u0080\u0085\u0086\u0087\u0088\u0089\u008a\u008c\u0093\u0094\u0095G"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

    @ParameterizedTest
    @ValueSource(strings = {"views_zip.pt", "views_legacy.pt", "checkpoint_zip.pt", "checkpoint_legacy.pt",
            "model_f32_zip_protocol4.pt", "views_zip_big.pt"})
    void mutatedFilesAreReadOrRefusedWithAMessage(String name) throws IOException {
        byte[] original = Files.readAllBytes(resource("pt").resolve(name));
        SplittableRandom random = new SplittableRandom(name.hashCode());
        for (int i = 0; i < COUNT; i++) {
            byte[] mutated = mutate(original, random);
            try {
                TorchCheckpoint.read(mutated, name);
            } catch (TensorFileException e) {
                if (e.getMessage() == null || !e.getMessage().startsWith(name)) {
                    fail("mutation " + i + " of " + name + ": a message that does not name the file: " + e.getMessage());
                }
            } catch (Throwable t) {
                throw new AssertionError("mutation " + i + " of " + name + " gave " + t, t);
            }
        }
    }

    /** The zip's CRC-32 catches most mutations of a zip file: here data.pkl is mutated and the archive rebuilt. */
    @ParameterizedTest
    @ValueSource(strings = {"views_zip.pt", "checkpoint_zip.pt", "model_f32_zip_protocol4.pt"})
    void mutatedPicklesInValidZipsAreReadOrRefusedWithAMessage(String name) throws IOException {
        java.util.Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(resource("pt").resolve(name).toFile())) {
            for (java.util.zip.ZipEntry entry : java.util.Collections.list(zip.entries())) {
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
        String pickle = entries.keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
        SplittableRandom random = new SplittableRandom(name.hashCode());
        for (int i = 0; i < COUNT; i++) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(out)) {
                for (java.util.Map.Entry<String, byte[]> e : entries.entrySet()) {
                    zip.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                    zip.write(e.getKey().equals(pickle) ? mutate(e.getValue(), random) : e.getValue());
                    zip.closeEntry();
                }
            }
            try {
                TorchCheckpoint.read(out.toByteArray(), name);
            } catch (TensorFileException e) {
                if (e.getMessage() == null || !e.getMessage().startsWith(name)) {
                    fail("mutation " + i + " of " + name + ": a message that does not name the file: " + e.getMessage());
                }
            } catch (Throwable t) {
                throw new AssertionError("mutation " + i + " of " + pickle + " in " + name + " gave " + t, t);
            }
        }
    }

    static byte[] mutate(byte[] original, SplittableRandom random) {
        byte[] b = original.clone();
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits; e++) {
            if (b.length == 0) return b;
            int at = random.nextInt(b.length);
            switch (random.nextInt(6)) {
                case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                case 1 -> b = Arrays.copyOf(b, at);
                case 2 -> b[at] = (byte) random.nextInt(256);
                case 3 -> {
                    long big = switch (random.nextInt(5)) {
                        case 0 -> -1L;
                        case 1 -> Long.MAX_VALUE;
                        case 2 -> 0xFFFFFFFFL;
                        case 3 -> 1L << 31;
                        default -> random.nextLong();
                    };
                    int width = random.nextBoolean() ? 4 : 8;
                    ByteBuffer buffer = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                    if (at + width <= b.length) {
                        if (width == 4) buffer.putInt(at, (int) big);
                        else buffer.putLong(at, big);
                    }
                }
                case 4 -> {
                    int n = 1 + random.nextInt(8);
                    for (int k = 0; k < n && at + k < b.length; k++) b[at + k] = OPCODES[random.nextInt(OPCODES.length)];
                }
                default -> {
                    int from = random.nextInt(b.length);
                    int length = Math.min(random.nextInt(64), b.length - Math.max(at, from));
                    System.arraycopy(b, from, b, at, Math.max(0, length));
                }
            }
        }
        return b;
    }
}
