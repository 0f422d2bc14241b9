package io.torchlstm4j.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Builders of compressed hostile files, made in milliseconds however large they inflate: a deflate stream of a
 * prefix followed by any number of zero bytes (one compressed mebibyte of zeros, repeated), gzip around it, and a
 * minimal zip writer whose names, sizes and data are taken as given (non-UTF-8 names and directory sizes that lie
 * included), which {@link java.util.zip.ZipOutputStream} would refuse to write.
 */
public final class Bombs {

    private static final int MIB = 1 << 20;
    private static final byte[] ZERO_MIB_BLOCKS = flushed(new byte[MIB]);
    /** An empty final block with fixed Huffman codes: BFINAL = 1, BTYPE = 01, end-of-block. */
    private static final byte[] FINAL_BLOCK = {0x03, 0x00};

    private Bombs() {
    }

    /** Raw deflate data that inflates to {@code prefix} then {@code zeroMib} mebibytes of zeros. */
    public static byte[] deflate(byte[] prefix, int zeroMib) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(flushed(prefix));
        for (int i = 0; i < zeroMib; i++) {
            out.writeBytes(ZERO_MIB_BLOCKS);
        }
        out.writeBytes(FINAL_BLOCK);
        return out.toByteArray();
    }

    /** CRC-32 of {@code prefix} then {@code zeroMib} mebibytes of zeros. */
    public static long crc(byte[] prefix, int zeroMib) {
        CRC32 crc = new CRC32();
        crc.update(prefix);
        byte[] zeros = new byte[MIB];
        for (int i = 0; i < zeroMib; i++) {
            crc.update(zeros);
        }
        return crc.getValue();
    }

    /** A gzip file that inflates to {@code prefix} then {@code zeroMib} mebibytes of zeros. */
    public static byte[] gzip(byte[] prefix, int zeroMib) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
        out.writeBytes(deflate(prefix, zeroMib));
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc(prefix, zeroMib))
                .putInt((int) (prefix.length + (long) zeroMib * MIB)).array());
        return out.toByteArray();
    }

    /**
     * One zip member as written: name bytes, method (0 stored, 8 deflated), the stored data, CRC-32, and the sizes
     * the headers declare.
     */
    public record Member(byte[] name, int method, byte[] data, long crc, long declaredSize) {

        /** A deflated member that inflates to {@code prefix} then {@code zeroMib} MiB of zeros, sizes true. */
        public static Member deflated(String name, byte[] prefix, int zeroMib) {
            return new Member(name.getBytes(StandardCharsets.UTF_8), 8, deflate(prefix, zeroMib), Bombs.crc(prefix, zeroMib),
                    prefix.length + (long) zeroMib * MIB);
        }

        /** The same member with the headers declaring {@code size} inflated bytes. */
        public Member declaring(long size) {
            return new Member(name, method, data, crc, size);
        }

        /** The same member with the CRC-32 of its data (for stored members). */
        public Member withTrueCrc() {
            CRC32 c = new CRC32();
            c.update(data);
            return new Member(name, method, data, c.getValue(), method == 0 ? data.length : declaredSize);
        }

        /** The same member under other name bytes. */
        public Member named(byte[] other) {
            return new Member(other, method, data, crc, declaredSize);
        }
    }

    /** A zip archive of the members: local headers and data, the central directory, the end record. */
    public static byte[] zip(List<Member> members) {
        ByteBuffer out = ByteBuffer.allocate(members.stream().mapToInt(m -> 2 * m.name().length + m.data().length
                + 76).sum() + 22).order(ByteOrder.LITTLE_ENDIAN);
        int[] offsets = new int[members.size()];
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            offsets[i] = out.position();
            out.putInt(0x04034b50).putShort((short) 20);
            common(out, m);
            out.putShort((short) 0).put(m.name()).put(m.data());
        }
        int directory = out.position();
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            out.putInt(0x02014b50).putShort((short) 20).putShort((short) 20);
            common(out, m);
            out.putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(offsets[i]).put(m.name());
        }
        int directorySize = out.position() - directory;
        out.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) members.size())
                .putShort((short) members.size()).putInt(directorySize).putInt(directory).putShort((short) 0);
        return Arrays.copyOf(out.array(), out.position());
    }

    /** Flags, method, time, date, CRC, compressed size, declared size, name length: shared by both headers. */
    private static void common(ByteBuffer out, Member m) {
        out.putShort((short) 0).putShort((short) m.method()).putShort((short) 0).putShort((short) 0x21)
                .putInt((int) m.crc()).putInt(m.data().length).putInt((int) m.declaredSize())
                .putShort((short) m.name().length);
    }

    /** {@code data} deflated by a fresh deflater and flushed to a byte boundary, no final block. */
    private static byte[] flushed(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        do {
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
            out.write(buffer, 0, n);
        } while (n == buffer.length || !deflater.needsInput());
        deflater.end();
        return out.toByteArray();
    }
}
