package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Finds the data the way the tutorial's {@code dsets.MNIST(root='./mnist/', download=True)} would, with fallbacks
 * so that the demo always runs, offline included.
 *
 * <ol>
 *   <li>{@code --data DIR}: the IDX files in {@code DIR/MNIST/raw} (torchvision's layout) or in {@code DIR};
 *       nothing else is tried.</li>
 *   <li>{@code ./mnist/MNIST/raw} (torchvision's folder under the tutorial's root).</li>
 *   <li>MNIST downloaded there, md5-checked (unless downloads are off).</li>
 *   <li>The MNIST test split embedded in the demo ({@link EmbeddedMnist}), with a one-line notice.</li>
 *   <li>Fashion-MNIST from Debian's {@code dataset-fashion-mnist}, with a notice (reached only when the embedded
 *       split is switched off, as tests do).</li>
 *   <li>Otherwise an error saying how to get the data.</li>
 * </ol>
 *
 * @param workingDir  where {@code ./mnist/MNIST/raw} is
 * @param downloader  null when downloads are off
 * @param embedded    whether to fall back to the embedded test split
 * @param fashionDir  Debian's Fashion-MNIST folder
 * @param notice      receives notices (for stderr)
 */
public record DataLocator(Path workingDir, MnistDownloader downloader, boolean embedded, Path fashionDir,
                          Consumer<String> notice) {

    /** Where Debian's {@code dataset-fashion-mnist} puts its files. */
    public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    /** The tutorial's root folder, {@code ./mnist}, and torchvision's sub-folder inside it. */
    public static final Path DEFAULT_RAW = Path.of("mnist", "MNIST", "raw");

    /**
     * Data that was found.
     *
     * @param dataset what it is: "MNIST", the embedded split's name, "Fashion-MNIST", or the folder given with --data
     * @param source  where it was read from (a folder, or the class path)
     * @param train   the training split, or null when it was not asked for
     * @param test    the test split (the evaluation images)
     */
    public record Located(String dataset, String source, Images train, Images test) {
    }

    /**
     * Finds and reads the data.
     *
     * @param data      the --data folder, or null
     * @param needTrain whether the training split is needed (false when training on part of the test split); the
     *                  embedded split always comes with both
     */
    public Located locate(Path data, boolean needTrain) {
        if (data != null) {
            if (!Files.isDirectory(data)) {
                throw new DataException(ExitCode.BAD_INPUT, "--data " + data + ": no such folder",
                        "give a folder holding MNIST's IDX files, or DIR/MNIST/raw holding them", null);
            }
            Path raw = data.resolve("MNIST").resolve("raw");
            Path dir = Files.isDirectory(raw) && hasTestSplit(raw) ? raw : data;
            return read(data.toString(), dir, needTrain);
        }
        Path defaultDir = workingDir.resolve(DEFAULT_RAW);
        if (missing(defaultDir, needTrain).isEmpty()) {
            return read("MNIST", defaultDir, needTrain);
        }
        String downloadFailure = "downloads are off (--no-download)";
        if (downloader != null) {
            try {
                downloader.download(defaultDir);
                return read("MNIST", defaultDir, needTrain);
            } catch (DataException e) {
                downloadFailure = e.getMessage();
            }
        }
        if (embedded) {
            Located split = EmbeddedMnist.located();
            notice.accept("NOTICE: MNIST is not in " + defaultDir + " and was not downloaded ("
                    + (downloader == null ? "--no-download" : "see above") + "); using the MNIST test split embedded "
                    + "in the demo (CC BY-SA 3.0): training on its last " + split.train().size()
                    + " images, evaluating on its first " + split.test().size() + ".");
            return split;
        }
        if (missing(fashionDir, needTrain).isEmpty()) {
            notice.accept("NOTICE: MNIST is not in " + defaultDir + " and could not be downloaded (" + downloadFailure
                    + "). Falling back to Fashion-MNIST from " + fashionDir + " (Debian package dataset-fashion-mnist):"
                    + " same format and sizes, but the 10 classes are clothing items, not digits.");
            return read("Fashion-MNIST", fashionDir, needTrain);
        }
        throw new DataException(ExitCode.ENVIRONMENT, "no data: MNIST is not in " + defaultDir + " (missing "
                + missing(defaultDir, needTrain) + "), it could not be had (" + downloadFailure
                + ") and Fashion-MNIST is not in " + fashionDir,
                "put MNIST's IDX files (" + String.join(", ", names(needTrain)) + ", gzipped or not) into "
                        + defaultDir + " or pass --data DIR, or install Debian's dataset-fashion-mnist", null);
    }

    private Located read(String dataset, Path dir, boolean needTrain) {
        List<String> missing = missing(dir, needTrain);
        if (!missing.isEmpty()) {
            String hint = hasTestSplit(dir) && needTrain
                    ? "this folder has only the test split: train on part of it with --holdout-from-test 2000"
                    : null;
            throw new DataException(ExitCode.BAD_INPUT, dir + " lacks " + String.join(" and ", missing)
                    + " (each may be gzipped, with .gz)", hint, null);
        }
        Images test = IdxFiles.read(file(dir, IdxFiles.TEST_IMAGES), file(dir, IdxFiles.TEST_LABELS));
        Images train = needTrain ? IdxFiles.read(file(dir, IdxFiles.TRAIN_IMAGES), file(dir, IdxFiles.TRAIN_LABELS)) : null;
        return new Located(dataset, dir.toString(), train, test);
    }

    private static Path file(Path dir, String name) {
        return IdxFiles.find(dir, name).orElseThrow();
    }

    private static boolean hasTestSplit(Path dir) {
        return missing(dir, false).isEmpty();
    }

    private static List<String> names(boolean needTrain) {
        return needTrain
                ? List.of(IdxFiles.TRAIN_IMAGES, IdxFiles.TRAIN_LABELS, IdxFiles.TEST_IMAGES, IdxFiles.TEST_LABELS)
                : List.of(IdxFiles.TEST_IMAGES, IdxFiles.TEST_LABELS);
    }

    private static List<String> missing(Path dir, boolean needTrain) {
        List<String> missing = new ArrayList<>();
        for (String name : names(needTrain)) {
            Optional<Path> found = IdxFiles.find(dir, name);
            if (found.isEmpty()) {
                missing.add(name);
            }
        }
        return missing;
    }
}
