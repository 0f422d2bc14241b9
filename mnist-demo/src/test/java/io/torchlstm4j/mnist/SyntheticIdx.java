package io.torchlstm4j.mnist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Small generated MNIST-format data: class c is a bright vertical band in columns 2c+4 and 2c+5 over faint noise, so an LSTM
 * reading rows learns it within a few dozen steps.
 */
final class SyntheticIdx {

    private SyntheticIdx() {
    }

    /** IDX bytes of {@code n} 28x28 images and their labels. */
    static byte[][] images(int n, long seed) {
        Random random = new Random(seed);
        ByteBuffer images = ByteBuffer.allocate(16 + n * 28 * 28).putInt(0x803).putInt(n).putInt(28).putInt(28);
        ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        for (int i = 0; i < n; i++) {
            int label = random.nextInt(10);
            labels.put((byte) label);
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    boolean band = c >= 2 * label + 4 && c < 2 * label + 6 && r >= 4 && r < 24;
                    images.put((byte) (band ? 255 : random.nextInt(40)));
                }
            }
        }
        return new byte[][]{images.array(), labels.array()};
    }

    /** Writes the four standard files (gzipped or not) into {@code dir}. */
    static Path writeDataset(Path dir, int trainCount, int testCount, boolean gzip) {
        try {
            Files.createDirectories(dir);
            byte[][] train = images(trainCount, 1);
            byte[][] test = images(testCount, 2);
            write(dir, IdxFiles.TRAIN_IMAGES, train[0], gzip);
            write(dir, IdxFiles.TRAIN_LABELS, train[1], gzip);
            write(dir, IdxFiles.TEST_IMAGES, test[0], gzip);
            write(dir, IdxFiles.TEST_LABELS, test[1], gzip);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path dir, String name, byte[] content, boolean gzip) throws IOException {
        Files.write(dir.resolve(gzip ? name + ".gz" : name), gzip ? gzip(content) : content);
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        }
        return out.toByteArray();
    }
}
