package io.torchlstm4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A zip archive's central directory, read strictly from a {@link ByteSource}, and its entries' bytes: stored or
 * deflated, each checked against its declared size and CRC-32. Inflation stops at the declared size (a larger
 * stream is refused there, never buffered), and the inflated bytes of all entries together are charged to a
 * {@link Budget}, so a small archive cannot make the reader allocate without bound. Zip64 is read (PyTorch writes
 * it); encryption, multiple disks and other compression methods are refused. Not safe for concurrent use.
 */
final class ZipArchive {

    private static final int LOCAL = 0x04034b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int END = 0x06054b50;
    private static final int END64 = 0x06064b50;
    private static final int END64_LOCATOR = 0x07064b50;
    private static final int END_SIZE = 22;
    private static final int MAX_COMMENT = 0xFFFF;
    private static final long MAX_ENTRIES = 10_000_000;

    /** One entry: where its data starts in the source, how it is compressed, its declared sizes and CRC. */
    record Entry(String name, int method, long crc, long compressedSize, long size, long headerOffset) {
    }

    private final ByteSource source;
    private final Map<String, Entry> entries;
    private final Budget budget;

    private ZipArchive(ByteSource source, Map<String, Entry> entries, Budget budget) {
        this.source = source;
        this.entries = entries;
        this.budget = budget;
    }

    /** Whether the source starts with a zip local file header. */
    static boolean looksLikeZip(ByteSource source) throws IOException {
        return source.size() >= 4 && le(source.read(0, 4, "the first 4 bytes")).getInt() == LOCAL;
    }

    static ZipArchive read(ByteSource source, Budget budget) throws IOException {
        long size = source.size();
        if (size < END_SIZE) {
            throw corrupt(source, "it is " + size + " bytes long, shorter than a zip end record (22 bytes)");
        }
        long tailStart = Math.max(0, size - END_SIZE - MAX_COMMENT);
        byte[] tail = source.read(tailStart, size - tailStart, "the end of the zip archive");
        ByteBuffer t = le(tail);
        int end = -1;
        for (int i = tail.length - END_SIZE; i >= 0 && end < 0; i--) {
            if (t.getInt(i) == END && i + END_SIZE + Short.toUnsignedInt(t.getShort(i + 20)) == tail.length) {
                end = i;
            }
        }
        if (end < 0) {
            throw corrupt(source, "it has no zip end-of-central-directory record");
        }
        long endPosition = tailStart + end;
        if (t.getShort(end + 4) != 0 || t.getShort(end + 6) != 0) {
            throw corrupt(source, "it is a multi-disk zip archive, which is not supported");
        }
        long count = Short.toUnsignedLong(t.getShort(end + 10));
        long directorySize = Integer.toUnsignedLong(t.getInt(end + 12));
        long directoryOffset = Integer.toUnsignedLong(t.getInt(end + 16));
        long directoryEnd = endPosition;
        if (endPosition >= 20 && le(source.read(endPosition - 20, 4, "the zip64 locator")).getInt() == END64_LOCATOR) {
            ByteBuffer locator = le(source.read(endPosition - 20, 20, "the zip64 locator"));
            long end64 = locator.getLong(8);
            ByteBuffer e = le(source.read(end64, 56, "the zip64 end record"));
            if (e.getInt(0) != END64) {
                throw corrupt(source, "its zip64 locator points to byte " + end64 + ", where there is no zip64 end "
                        + "record");
            }
            count = e.getLong(32);
            directorySize = e.getLong(40);
            directoryOffset = e.getLong(48);
            directoryEnd = end64;
        }
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > directoryEnd
                || directorySize != directoryEnd - directoryOffset) {
            throw corrupt(source, "its central directory (" + directorySize + " bytes at byte " + directoryOffset
                    + ") does not end where its end record starts (byte " + directoryEnd + ")");
        }
        if (count < 0 || count > MAX_ENTRIES || count > directorySize / 46) {
            throw corrupt(source, "it declares " + count + " entries, more than its central directory of "
                    + directorySize + " bytes can hold");
        }
        ByteBuffer d = le(source.read(directoryOffset, directorySize, "the zip central directory"));
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            Entry entry = central(source, d, directoryOffset);
            if (entries.put(entry.name(), entry) != null) {
                throw corrupt(source, "entry '" + entry.name() + "' appears twice");
            }
        }
        if (d.hasRemaining()) {
            throw corrupt(source, "its central directory has " + d.remaining() + " bytes after its " + count
                    + " entries");
        }
        for (Entry entry : entries.values()) {
            if (entry.headerOffset() > directoryOffset) {
                throw corrupt(source, "entry '" + entry.name() + "' starts at byte " + entry.headerOffset()
                        + ", after the central directory (byte " + directoryOffset + ")");
            }
        }
        return new ZipArchive(source, Collections.unmodifiableMap(entries), budget);
    }

    /** The entries by name, in the central directory's order. */
    Map<String, Entry> entries() {
        return entries;
    }

    /**
     * The entry's bytes, checked against its declared size and CRC-32; {@code limit} bounds its declared size
     * (the caller's expectation, e.g. a pickle's maximum).
     */
    byte[] read(Entry entry, long limit) throws IOException {
        String what = "entry '" + entry.name() + "'";
        if (entry.size() > limit) {
            throw corrupt(source, what + " declares " + entry.size() + " bytes, more than the " + limit
                    + " accepted for it");
        }
        ByteBuffer local = le(source.read(entry.headerOffset(), 30, "the local header of " + what));
        if (local.getInt(0) != LOCAL) {
            throw corrupt(source, what + " has no local header at byte " + entry.headerOffset());
        }
        long dataStart = entry.headerOffset() + 30 + Short.toUnsignedInt(local.getShort(26))
                + Short.toUnsignedInt(local.getShort(28));
        byte[] compressed = source.read(dataStart, entry.compressedSize(), "the data of " + what);
        byte[] bytes;
        if (entry.method() == 0) {
            bytes = compressed;
        } else {
            budget.charge(entry.size(), "inflating " + what);
            bytes = inflate(entry, compressed);
        }
        CRC32 crc = new CRC32();
        crc.update(bytes);
        if (crc.getValue() != entry.crc()) {
            throw corrupt(source, what + " has CRC-32 " + Long.toHexString(crc.getValue()) + " but its directory "
                    + "says " + Long.toHexString(entry.crc()) + " (the file is damaged)");
        }
        return bytes;
    }

    private byte[] inflate(Entry entry, byte[] compressed) throws TensorFileException {
        String what = "entry '" + entry.name() + "'";
        // the declared size was charged to the budget and is at most the caller's limit: the array is bounded
        byte[] out = new byte[(int) entry.size()];
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            int n = 0;
            while (n < out.length && !inflater.finished()) {
                int got = inflater.inflate(out, n, out.length - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw corrupt(source, what + " inflates to " + n + " bytes, fewer than the " + out.length
                            + " it declares");
                }
                n += got;
            }
            if (!inflater.finished()) {
                byte[] probe = new byte[1];
                if (inflater.inflate(probe) > 0 || !inflater.finished()) {
                    throw corrupt(source, what + " inflates to more than the " + out.length + " bytes it declares");
                }
            }
            if (n != out.length) {
                throw corrupt(source, what + " inflates to " + n + " bytes, fewer than the " + out.length
                        + " it declares");
            }
            return out;
        } catch (DataFormatException e) {
            throw corrupt(source, what + " is not valid deflate data (" + e.getMessage() + ")");
        } finally {
            inflater.end();
        }
    }

    private static Entry central(ByteSource source, ByteBuffer d, long directoryOffset) throws TensorFileException {
        long at = directoryOffset + d.position();
        if (d.remaining() < 46 || d.getInt(d.position()) != CENTRAL) {
            throw corrupt(source, "its central directory has no entry header at byte " + at);
        }
        int p = d.position();
        int flags = Short.toUnsignedInt(d.getShort(p + 8));
        int method = Short.toUnsignedInt(d.getShort(p + 10));
        long crc = Integer.toUnsignedLong(d.getInt(p + 16));
        long compressed = Integer.toUnsignedLong(d.getInt(p + 20));
        long size = Integer.toUnsignedLong(d.getInt(p + 24));
        int nameLength = Short.toUnsignedInt(d.getShort(p + 28));
        int extraLength = Short.toUnsignedInt(d.getShort(p + 30));
        int commentLength = Short.toUnsignedInt(d.getShort(p + 32));
        int disk = Short.toUnsignedInt(d.getShort(p + 34));
        long offset = Integer.toUnsignedLong(d.getInt(p + 42));
        if (d.remaining() < 46 + nameLength + extraLength + commentLength) {
            throw corrupt(source, "its central directory entry at byte " + at + " runs past the directory's end");
        }
        byte[] nameBytes = new byte[nameLength];
        d.position(p + 46);
        d.get(nameBytes);
        String name = utf8(source, nameBytes, at);
        ByteBuffer extra = d.slice().order(ByteOrder.LITTLE_ENDIAN).limit(extraLength);
        d.position(p + 46 + nameLength + extraLength + commentLength);
        // zip64: the extra field 0x0001 holds, in this order, each of the three values that is 0xFFFFFFFF
        while (extra.remaining() >= 4) {
            int id = Short.toUnsignedInt(extra.getShort());
            int length = Short.toUnsignedInt(extra.getShort());
            if (length > extra.remaining()) {
                throw corrupt(source, "entry '" + name + "' has an extra field that runs past its end");
            }
            ByteBuffer field = extra.slice().order(ByteOrder.LITTLE_ENDIAN).limit(length);
            extra.position(extra.position() + length);
            if (id != 1) continue;
            try {
                if (size == 0xFFFFFFFFL) size = field.getLong();
                if (compressed == 0xFFFFFFFFL) compressed = field.getLong();
                if (offset == 0xFFFFFFFFL) offset = field.getLong();
            } catch (java.nio.BufferUnderflowException e) {
                throw corrupt(source, "entry '" + name + "' has a zip64 extra field too short for its sizes");
            }
        }
        if ((flags & 1) != 0) {
            throw corrupt(source, "entry '" + name + "' is encrypted");
        }
        if (disk != 0) {
            throw corrupt(source, "entry '" + name + "' is on disk " + disk + " of a multi-disk archive");
        }
        if (method != 0 && method != 8) {
            throw corrupt(source, "entry '" + name + "' uses compression method " + method
                    + " (0, stored, and 8, deflated, are supported)");
        }
        if (size < 0 || compressed < 0 || offset < 0) {
            throw corrupt(source, "entry '" + name + "' declares sizes or an offset beyond 2^63");
        }
        if (method == 0 && size != compressed) {
            throw corrupt(source, "entry '" + name + "' is stored uncompressed but declares " + compressed
                    + " bytes in the archive and " + size + " bytes of content");
        }
        return new Entry(name, method, crc, compressed, size, offset);
    }

    private static String utf8(ByteSource source, byte[] bytes, long at) throws TensorFileException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(source, "the name of its central directory entry at byte " + at + " is not UTF-8");
        }
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static TensorFileException corrupt(ByteSource source, String what) {
        return new TensorFileException(source.file(), source.file() + " is not a valid zip archive: " + what);
    }

    /**
     * How many bytes a reader may allocate beyond those read from the file (inflated entries, tensors made from
     * views that share storage): a fixed allowance plus a multiple of the file's size.
     */
    static final class Budget {
        private final ByteSource source;
        private final long limit;
        private long used;

        Budget(ByteSource source, long limit) {
            this.source = source;
            this.limit = limit;
        }

        void charge(long bytes, String what) throws TensorFileException {
            if (bytes < 0 || bytes > limit - used) {
                throw new TensorFileException(source.file(), source.file() + ": " + what + " needs " + bytes
                        + " bytes, beyond the " + limit + " bytes that a file of its size may expand to ("
                        + used + " already used): the file is damaged or built to exhaust memory");
            }
            used += bytes;
        }
    }
}
