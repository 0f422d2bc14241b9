package io.torchlstm4j.mnist;

import io.torchlstm4j.fuzz.Bombs;
import io.torchlstm4j.io.ReadLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile IDX and image files that once ran out of memory, overflowed or said nothing useful, each built by
 * code, each refused with a DataException that names the file and says what was found.
 */
class HostileDataTest {

    @TempDir
    Path dir;

    @Test
    void sizesThatWrapTo0In64BitsAreRefused() throws IOException {
        Path images = write("images-idx3-ubyte", MnistTargets.idxHostile().get(0));
        assertRefused(images, () -> IdxFiles.read(images, labels()),
                images + ": its header announces 16 images of 1073741824x1073741824 pixels, more than 2^63 bytes");
    }

    @Test
    void gzipThatInflatesTo1GiBIsRefusedBeforeInflating() throws IOException {
        byte[] bomb = MnistTargets.idxGzHostile().get(0);
        assertTrue(bomb.length < 2_000_000, "a small file: " + bomb.length);
        Path images = write("images-idx3-ubyte.gz", bomb);
        assertRefused(images, () -> IdxFiles.read(images, labels()), images + ": its header announces 1024 images of "
                + "1024x1024 pixels = 1073741824 bytes, more than the " + ReadLimits.maxTensorBytes() + " accepted");
    }

    @Test
    void gzipWhoseDataInflatesPastItsHeaderIsCutOffAfterOneByte() throws IOException {
        Path images = write("images-idx3-ubyte.gz", Bombs.gzip(MnistTargets.idx(60_000, 28, 28, new byte[0]), 1024));
        assertRefused(images, () -> IdxFiles.read(images, labels()), images + " has extra bytes: its header "
                + "announces 60000 images of 28x28 pixels = 47040000 bytes but more bytes follow the header");
    }

    @Test
    void pngDeclaring30000By30000PixelsIsRefusedBeforeDecoding() throws IOException {
        Path png = write("huge.png", MnistTargets.imageHostile().get(0));
        assertRefused(png, () -> ImageInput.pixels(png, 28), png + ": the PNG image declares 30000 x 30000 = "
                + "900000000 pixels, but 1 to " + ImageInput.maxPixels() + " were expected (raise -Xmx or set "
                + "-Dtorchlstm4j.mnist.maxImagePixels)");
    }

    @Test
    void corruptPngSaysWhatTheDecoderFound() throws IOException {
        byte[] png = MnistTargets.imageSeeds().get(0);
        byte[] corrupt = png.clone();
        for (int i = 45; i < 60; i++) corrupt[i] ^= 0x5a; // inside the compressed pixel data
        Path file = write("corrupt.png", corrupt);
        DataException e = assertRefused(file, () -> ImageInput.pixels(file, 28),
                file + ": the PNG image cannot be decoded: corrupt image data (");
        assertFalse(e.getMessage().contains("Caught exception during read"), e.getMessage());
    }

    private Path labels() throws IOException {
        return write("labels-idx1-ubyte", SyntheticIdx.images(3, 0)[1]);
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static DataException assertRefused(Path file, Executable read, String expected) {
        DataException e = assertThrows(DataException.class, read);
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        return e;
    }
}
