package io.torchlstm4j.mnist;

import io.torchlstm4j.fuzz.Bombs;
import io.torchlstm4j.fuzz.FuzzRunner;
import io.torchlstm4j.fuzz.FuzzTarget;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * The demo's readers as fuzzing targets ({@link io.torchlstm4j.fuzz}): IDX images, plain and gzipped (read with a
 * valid labels file of 3 labels beside them), and image files for {@code predict}; seeds and hostile files built
 * here. A new reader is one more line in {@link #all()}.
 */
final class MnistTargets {

    private static final int MIB = 1 << 20;

    private MnistTargets() {
    }

    /** Runs the targets named in {@code args} (all when none) as {@link FuzzRunner#runConfigured} does. */
    public static void main(String[] args) {
        for (FuzzTarget target : all()) {
            if (args.length == 0 || List.of(args).contains(target.name())) {
                FuzzRunner.runConfigured(target);
            }
        }
    }

    static List<FuzzTarget> all() {
        return List.of(
                FuzzTarget.ofFile("idx", idxSeeds(), idxHostile(), "fuzz-images-idx3-ubyte", MnistTargets::readIdx,
                        DataException.class),
                FuzzTarget.ofFile("idx.gz", gzipAll(idxSeeds()), idxGzHostile(), "fuzz-images-idx3-ubyte.gz",
                        MnistTargets::readIdx, DataException.class),
                FuzzTarget.ofFile("image", imageSeeds(), imageHostile(), "fuzz-image",
                        file -> ImageInput.pixels(file, 28), DataException.class));
    }

    /** The images file read with 3 valid labels beside it. */
    private static Object readIdx(Path images) throws IOException {
        Path labels = images.resolveSibling("labels-idx1-ubyte");
        if (!Files.exists(labels)) {
            Files.write(labels, SyntheticIdx.images(3, 0)[1]);
        }
        return IdxFiles.read(images, labels);
    }

    static List<byte[]> idxSeeds() {
        return List.of(SyntheticIdx.images(3, 1)[0], SyntheticIdx.images(3, 2)[0], idx(3, 2, 2, new byte[12]));
    }

    /** An IDX images header of count x rows x cols followed by {@code data}. */
    static byte[] idx(int count, int rows, int cols, byte[] data) {
        return ByteBuffer.allocate(16 + data.length).putInt(0x803).putInt(count).putInt(rows).putInt(cols).put(data)
                .array();
    }

    /** 16 images of 2^30 x 2^30 pixels and no data (the count wraps to 0 in 64 bits); the largest ints. */
    static List<byte[]> idxHostile() {
        return List.of(idx(16, 1 << 30, 1 << 30, new byte[0]), idx(Integer.MAX_VALUE, 28, 28, new byte[0]),
                idx(-1, 28, 28, new byte[0]), idx(3, 0, 28, new byte[0]));
    }

    /**
     * Gzipped: 1,024 images of 1024 x 1024 pixels that really inflate to 1 GiB; 6,000 28 x 28 images whose data
     * inflates to 1 GiB; the overflowing header.
     */
    static List<byte[]> idxGzHostile() {
        return List.of(Bombs.gzip(idx(1024, 1024, 1024, new byte[0]), 1024),
                Bombs.gzip(idx(6_000, 28, 28, new byte[0]), 1024),
                Bombs.gzip(idx(16, 1 << 30, 1 << 30, new byte[0]), 0));
    }

    static List<byte[]> gzipAll(List<byte[]> files) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] f : files) {
            try {
                out.add(SyntheticIdx.gzip(f));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** A grey digit-like PNG, an RGB PNG with transparency, and BMP, GIF and JPEG files. */
    static List<byte[]> imageSeeds() {
        Random random = new Random(18);
        List<byte[]> seeds = new ArrayList<>();
        BufferedImage grey = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage argb = new BufferedImage(20, 31, BufferedImage.TYPE_INT_ARGB);
        BufferedImage rgb = new BufferedImage(17, 12, BufferedImage.TYPE_INT_RGB);
        for (BufferedImage image : List.of(grey, argb, rgb)) {
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    image.setRGB(x, y, random.nextInt());
                }
            }
        }
        seeds.add(encode(grey, "png"));
        seeds.add(encode(argb, "png"));
        seeds.add(encode(rgb, "bmp"));
        seeds.add(encode(rgb, "gif"));
        seeds.add(encode(rgb, "jpeg"));
        return seeds;
    }

    /** A PNG declaring 30000 x 30000 pixels with 1 MiB of its pixel data; a 1000 x 1000 PNG of zeros. */
    static List<byte[]> imageHostile() {
        return List.of(greyPng(30_000, 30_000, MIB), greyPng(1000, 1000, 1000 * 1001));
    }

    /** An 8-bit grey PNG of width x height whose compressed pixel data inflates to {@code zeros} zero bytes. */
    static byte[] greyPng(int width, int height, int zeros) {
        byte[] remainder = new byte[zeros % MIB];
        byte[] deflated = Bombs.deflate(remainder, zeros / MIB);
        Adler32 adler = new Adler32();
        adler.update(remainder);
        byte[] mib = new byte[MIB];
        for (int i = 0; i < zeros / MIB; i++) adler.update(mib);
        byte[] zlib = ByteBuffer.allocate(deflated.length + 6).put((byte) 0x78).put((byte) 0x9c).put(deflated)
                .putInt((int) adler.getValue()).array();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(png, "IDAT", zlib);
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream png, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        png.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        png.writeBytes(typeBytes);
        png.writeBytes(data);
        png.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static byte[] encode(BufferedImage image, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(image, format, out)) throw new IllegalStateException("no " + format + " writer");
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
