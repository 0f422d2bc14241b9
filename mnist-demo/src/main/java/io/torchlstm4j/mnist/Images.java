package io.torchlstm4j.mnist;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Greyscale images with their class labels, as read from an MNIST-style IDX pair.
 *
 * @param pixels row-major pixels, image after image (count * rows * cols bytes, unsigned 0..255)
 * @param labels one class 0..9 per image
 * @param rows   image height: the tutorial's sequence length L (one row per time step)
 * @param cols   image width: the tutorial's input size H_in (one row's pixels per step)
 */
public record Images(byte[] pixels, byte[] labels, int rows, int cols) {

    /** Number of classes of MNIST and Fashion-MNIST. */
    public static final int NUM_CLASSES = 10;

    /** Checks the sizes agree. */
    public Images {
        if ((long) labels.length * rows * cols != pixels.length) {
            throw new IllegalArgumentException("images hold " + pixels.length + " bytes but " + labels.length
                    + " labels x " + rows + " x " + cols + " pixels were expected");
        }
    }

    /** Number of images. */
    public int size() {
        return labels.length;
    }

    /** The label of image {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** Images {@code from} (inclusive) to {@code to} (exclusive), as a copy. */
    public Images range(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ") is outside the " + size() + " images");
        }
        int pixelsPerImage = rows * cols;
        return new Images(Arrays.copyOfRange(pixels, from * pixelsPerImage, to * pixelsPerImage),
                Arrays.copyOfRange(labels, from, to), rows, cols);
    }

    /** The first {@code n} images, or all when there are fewer. */
    public Images first(int n) {
        return range(0, Math.min(n, size()));
    }

    /**
     * The network input for the given images: DL4J's NCW [N, cols, rows], i.e. PyTorch's batch-first
     * (N, L = rows, H_in = cols) transposed, with pixels / 255 as torchvision's {@code ToTensor()}.
     */
    public INDArray features(int[] indices, DataType dataType) {
        int pixelsPerImage = rows * cols;
        double[] values = new double[indices.length * pixelsPerImage];
        for (int n = 0; n < indices.length; n++) {
            int base = indices[n] * pixelsPerImage;
            for (int t = 0; t < rows; t++) {
                for (int c = 0; c < cols; c++) {
                    values[n * pixelsPerImage + c * rows + t] = (pixels[base + t * cols + c] & 0xFF) / 255.0;
                }
            }
        }
        return Nd4j.create(values, new long[]{indices.length, cols, rows}, DataType.DOUBLE).castTo(dataType);
    }

    /** One-hot labels [N, 10] for the given images. */
    public INDArray oneHotLabels(int[] indices, DataType dataType) {
        INDArray out = Nd4j.zeros(dataType, indices.length, NUM_CLASSES);
        for (int n = 0; n < indices.length; n++) {
            out.putScalar(n, labels[indices[n]], 1.0);
        }
        return out;
    }

    /** Indices {@code from} .. {@code to - 1}. */
    public static int[] indices(int from, int to) {
        int[] out = new int[to - from];
        Arrays.setAll(out, i -> from + i);
        return out;
    }
}
