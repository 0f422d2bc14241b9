package io.torchlstm4j.mnist;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Image files as MNIST-like input: composed over white (transparency), greyscale, resized to size x size by area
 * averaging, and inverted when the border is light (MNIST digits are light on a black background).
 */
final class ImageInput {

    private ImageInput() {
    }

    /** The images, in order, with label 0 (unknown). */
    static Images read(List<Path> files, int size) throws IOException {
        byte[] pixels = new byte[files.size() * size * size];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(pixels(files.get(i), size), 0, pixels, i * size * size, size * size);
        }
        return new Images(pixels, new byte[files.size()], size, size);
    }

    static byte[] pixels(Path file, int size) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + ": no such file");
        }
        BufferedImage source = ImageIO.read(file.toFile());
        if (source == null) {
            throw new DataException(file + ": not an image that javax.imageio can read (PNG, JPEG, GIF, BMP were "
                    + "expected)");
        }
        Image scaled = source.getScaledInstance(size, size, Image.SCALE_AREA_AVERAGING);
        BufferedImage grey = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = grey.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, size, size);
        g.drawImage(scaled, 0, 0, null);
        g.dispose();
        byte[] pixels = new byte[size * size];
        grey.getRaster().getDataElements(0, 0, size, size, pixels);
        if (borderMean(pixels, size) > 127) {
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (byte) (255 - (pixels[i] & 0xFF));
            }
        }
        return pixels;
    }

    private static double borderMean(byte[] pixels, int size) {
        long sum = 0;
        int count = 0;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                if (y == 0 || x == 0 || y == size - 1 || x == size - 1) {
                    sum += pixels[y * size + x] & 0xFF;
                    count++;
                }
            }
        }
        return (double) sum / count;
    }
}
