package io.torchlstm4j.fuzz;

import io.torchlstm4j.io.Npz;
import io.torchlstm4j.io.ReadLimits;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TensorFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile files that once crashed or fooled the readers (stack overflow, out of memory, bare JDK exceptions),
 * each built by code, each refused with a TensorFileException that names the file and says what was found.
 */
class HostileFilesTest {

    @TempDir
    Path dir;

    @Test
    void npyHeaderNested3000DeepIsRefusedWithoutRecursingThatDeep() throws IOException {
        Path file = write("nested.npz", ReaderTargets.npzNestedHeader(3000));
        assertRefused(file, () -> Npz.read(file), "array 'a' has a .npy header that is not a Python dict literal "
                + "(nesting deeper than 64 levels (set -Dtorchlstm4j.io.maxNesting) at character");
    }

    @Test
    void safetensorsShapeNested10000DeepIsRefusedBeforeParsing() throws IOException {
        Path file = write("nested.safetensors", ReaderTargets.safetensorsNestedShape(10_000));
        assertRefused(file, () -> Safetensors.read(file), file + " is not a valid safetensors file: the header nests "
                + "10002 levels deep, more than the 64 accepted");
    }

    @Test
    void safetensorsNumberOfAHundredThousandDigitsIsRefusedBeforeParsing() throws IOException {
        Path file = write("digits.safetensors", ReaderTargets.safetensorsHostile().get(1));
        assertRefused(file, () -> Safetensors.read(file), "the header has a number of 100000 characters, more than "
                + "the 100 accepted");
    }

    @Test
    void memberInflatingTo1GiBIsRefusedBeforeInflating() throws IOException {
        byte[] bomb = ReaderTargets.npzBomb(ReaderTargets.GIB_OF_FLOATS, -1);
        assertTrue(bomb.length < 2_000_000, "a small file: " + bomb.length);
        Path file = write("bomb.npz", bomb);
        assertRefused(file, () -> Npz.read(file), "array 'a' has dtype '<f4' and shape [268435456], which needs "
                + "1073741824 bytes, more than the " + ReadLimits.maxTensorBytes() + " accepted");
    }

    @Test
    void theIssues400MBMemberIsRefusedAtTheLimitOfA512MBHeap() throws IOException {
        Path file = write("bomb400.npz", ReaderTargets.npzBomb(100_000_000 / (1 << 18) * (1 << 18), -1));
        System.setProperty("torchlstm4j.io.maxTensorBytes", String.valueOf((512L << 20) / 8));
        try {
            assertRefused(file, () -> Npz.read(file), "which needs 399507456 bytes, more than the 67108864 accepted "
                    + "(raise -Xmx or set -Dtorchlstm4j.io.maxTensorBytes)");
        } finally {
            System.clearProperty("torchlstm4j.io.maxTensorBytes");
        }
    }

    @Test
    void zipDirectoryUnderstatingTheMemberIsRefusedBeforeInflating() throws IOException {
        Path file = write("lying.npz", ReaderTargets.npzBomb(ReaderTargets.GIB_OF_FLOATS / 16, 84));
        assertRefused(file, () -> Npz.read(file), "array 'a' has dtype '<f4' and shape [16777216], which needs "
                + "67108864 bytes of data (a .npy entry of ");
        assertRefused(file, () -> Npz.read(file), "bytes), but the zip directory says the entry holds 84 bytes");
    }

    @Test
    void dataInflatingPastItsHeaderIsCutOffAfterOneByte() throws IOException {
        Path file = write("longer.npz", ReaderTargets.npzLongerThanItsHeader());
        assertRefused(file, () -> Npz.read(file), "array 'a' has dtype '<f4' and shape [3], which needs 12 bytes "
                + "of data, but more are present");
    }

    @Test
    void entryNameThatIsNotUtf8IsRefused() throws IOException {
        Path file = write("name.npz", ReaderTargets.npzNonUtf8Name());
        assertRefused(file, () -> Npz.read(file), file + " is not a valid .npz (zip) file: ");
    }

    @Test
    void archiveWithItsEndRecordCutAnywhereIsRefusedWithAMessage() throws IOException {
        for (int cut = 1; cut <= 22; cut++) {
            Path file = write("cut" + cut + ".npz", ReaderTargets.npzEndRecordCut(cut));
            assertRefused(file, () -> Npz.read(file), file + " is not a valid .npz (zip) file: ");
        }
    }

    @Test
    void memberWhoseHeaderLiesPastTheEndSaysSoInsteadOfANullMessage() throws IOException {
        byte[] zip = Bombs.zip(List.of(Bombs.Member.deflated("a.npy", ReaderTargets.npy("{'descr': '<f4', "
                + "'fortran_order': False, 'shape': (1,), }", new byte[4]), 0)));
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int directory = b.getInt(zip.length - 22 + 16);
        b.putInt(directory + 42, zip.length - 10); // the member's local header offset: 10 bytes before the end
        Path file = write("offset.npz", zip);
        assertRefused(file, () -> Npz.read(file), file + ": array 'a' cannot be decompressed: unexpected end of data");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /** Refused with a TensorFileException naming the file and containing {@code expected}; prints the message. */
    static void assertRefused(Path file, Executable read, String expected) {
        TensorFileException e = assertThrows(TensorFileException.class, read);
        assertNotNull(e.getMessage());
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
