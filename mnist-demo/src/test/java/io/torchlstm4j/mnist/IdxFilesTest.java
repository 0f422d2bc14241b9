package io.torchlstm4j.mnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxFilesTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void readsGzippedAndPlainFilesUnderTheStandardNames(boolean gzip) {
        SyntheticIdx.writeDataset(dir, 30, 20, gzip);
        Path images = IdxFiles.find(dir, IdxFiles.TRAIN_IMAGES).orElseThrow();
        assertEquals(gzip, images.toString().endsWith(".gz"));
        Images train = IdxFiles.read(images, IdxFiles.find(dir, IdxFiles.TRAIN_LABELS).orElseThrow());
        byte[][] expected = SyntheticIdx.images(30, 1);
        assertEquals(30, train.size());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        assertTrue(Arrays.equals(Arrays.copyOfRange(expected[0], 16, expected[0].length), train.pixels()));
        assertTrue(Arrays.equals(Arrays.copyOfRange(expected[1], 8, expected[1].length), train.labels()));
    }

    @Test
    void realMnistSubsetHasTheFirstTestDigits() {
        Images subset = TestData.subset();
        assertEquals(512, subset.size());
        assertEquals(7, subset.label(0));
        assertEquals(2, subset.label(1));
    }

    @Test
    void featuresAreTheTransposedRowsOverTwoFiftyFive() {
        Images images = TestData.subset();
        var x = images.features(new int[]{3}, org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        assertEquals(java.util.List.of(1L, 28L, 28L), Arrays.stream(x.shape()).boxed().toList());
        int row = 14;
        int col = 9;
        assertEquals((images.pixels()[3 * 784 + row * 28 + col] & 0xFF) / 255.0, x.getDouble(0, col, row), 0);
    }

    @Test
    void wrongMagicNamesTheFileAndBothNumbers() throws IOException {
        SyntheticIdx.writeDataset(dir, 5, 5, false);
        Path labels = dir.resolve(IdxFiles.TEST_LABELS);
        Path images = dir.resolve(IdxFiles.TEST_IMAGES);
        DataException e = assertThrows(DataException.class, () -> IdxFiles.read(labels, images));
        assertEquals(labels + " is not an IDX file of unsigned-byte images, 3 dimensions: magic number 0x00000803 "
                + "was expected but 0x00000801 was found", e.getMessage());
    }

    @Test
    void truncatedFileNamesTheFileAndTheByteCounts() throws IOException {
        SyntheticIdx.writeDataset(dir, 5, 5, false);
        Path images = dir.resolve(IdxFiles.TEST_IMAGES);
        byte[] content = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(content, content.length - 100));
        DataException e = assertThrows(DataException.class,
                () -> IdxFiles.read(images, dir.resolve(IdxFiles.TEST_LABELS)));
        assertEquals(images + " is truncated: its header announces 5 images of 28x28 pixels = 3920 bytes but 3820 "
                + "bytes follow the header", e.getMessage());
    }

    @Test
    void truncatedGzipNamesTheFile() throws IOException {
        SyntheticIdx.writeDataset(dir, 5, 5, true);
        Path images = dir.resolve(IdxFiles.TEST_IMAGES + ".gz");
        byte[] content = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(content, content.length / 2));
        DataException e = assertThrows(DataException.class,
                () -> IdxFiles.read(images, dir.resolve(IdxFiles.TEST_LABELS + ".gz")));
        assertTrue(e.getMessage().startsWith(images + " is not a complete gzip file"), e.getMessage());
    }

    @Test
    void tooShortForAHeader() throws IOException {
        Path images = dir.resolve(IdxFiles.TEST_IMAGES);
        Files.write(images, new byte[]{0, 0, 8});
        DataException e = assertThrows(DataException.class, () -> IdxFiles.read(images, images));
        assertEquals(images + " is truncated: 3 bytes, but an IDX header of 16 bytes was expected", e.getMessage());
    }

    @Test
    void imageAndLabelCountsMustAgree() throws IOException {
        SyntheticIdx.writeDataset(dir, 5, 7, false);
        Path images = dir.resolve(IdxFiles.TRAIN_IMAGES);
        Path labels = dir.resolve(IdxFiles.TEST_LABELS);
        DataException e = assertThrows(DataException.class, () -> IdxFiles.read(images, labels));
        assertEquals(images + " has 5 images but " + labels + " has 7 labels: they must be the same count",
                e.getMessage());
    }

    @Test
    void labelsOutsideTheTenClassesAreRejected() throws IOException {
        SyntheticIdx.writeDataset(dir, 5, 5, false);
        Path labels = dir.resolve(IdxFiles.TEST_LABELS);
        byte[] content = Files.readAllBytes(labels);
        content[8 + 2] = 12;
        Files.write(labels, content);
        DataException e = assertThrows(DataException.class,
                () -> IdxFiles.read(dir.resolve(IdxFiles.TEST_IMAGES), labels));
        assertEquals(labels + ": label 2 is 12 but classes 0..9 were expected", e.getMessage());
    }
}
