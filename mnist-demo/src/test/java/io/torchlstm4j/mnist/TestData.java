package io.torchlstm4j.mnist;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** The committed test resources (written by mnist-demo/tools/make_test_fixtures.py). */
final class TestData {

    private TestData() {
    }

    /** A file or folder under src/test/resources. */
    static Path resource(String name) {
        try {
            return Path.of(TestData.class.getResource("/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + name + " is missing", e);
        }
    }

    /** The first 512 real MNIST test images. */
    static Images subset() {
        Path dir = resource("mnist-subset");
        return IdxFiles.read(dir.resolve(IdxFiles.TEST_IMAGES + ".gz"), dir.resolve(IdxFiles.TEST_LABELS + ".gz"));
    }

    static JsonNode json(String name) throws IOException {
        return new ObjectMapper().readTree(resource(name).toFile());
    }
}
