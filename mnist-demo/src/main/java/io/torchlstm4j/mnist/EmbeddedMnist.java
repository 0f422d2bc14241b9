package io.torchlstm4j.mnist;

/**
 * The MNIST test split (10,000 images) that ships inside the demo's jar, so that the demo runs with no data beside
 * it and no network: trained on its images 2000..9999 and evaluated on images 0..1999 (the tutorial evaluates on
 * the first 2000 test images). Source, licence (CC BY-SA 3.0) and md5s: the README.md next to the files
 * ({@value #RESOURCE_DIR}).
 */
public final class EmbeddedMnist {

    /** Where the gzipped IDX files are on the class path. */
    public static final String RESOURCE_DIR = "/io/torchlstm4j/mnist/embedded/";

    /** Images 0..HELD_OUT-1 are the evaluation set, the rest the training set. */
    public static final int HELD_OUT = 2000;

    /** What the demo calls this data set (in its output and summary.json). */
    public static final String NAME = "MNIST test split (embedded)";

    private EmbeddedMnist() {
    }

    /** All 10,000 images with their labels. */
    public static Images all() {
        return IdxFiles.readResources(RESOURCE_DIR + IdxFiles.TEST_IMAGES + ".gz",
                RESOURCE_DIR + IdxFiles.TEST_LABELS + ".gz");
    }

    /** The data as the demo uses it: train on images HELD_OUT.., evaluate on images 0..HELD_OUT-1. */
    static DataLocator.Located located() {
        Images all = all();
        return new DataLocator.Located(NAME, "class path " + RESOURCE_DIR, all.range(HELD_OUT, all.size()),
                all.first(HELD_OUT));
    }
}
