package io.torchlstm4j.mnist;

import io.torchlstm4j.io.AtomicFiles;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The run's summary as JSON, with the same field names as tools/tutorial.py writes. */
final class Summary {

    private final Map<String, Object> fields = new LinkedHashMap<>();

    Summary put(String name, Object value) {
        fields.put(name, value);
        return this;
    }

    String toJson() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(fields) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("summary fields are plain values", e);
        }
    }

    void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toJson());
    }
}
