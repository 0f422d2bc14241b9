package io.torchlstm4j.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One reader under fuzzing: the valid files its mutations start from, hostile files fed as they are (and mutated),
 * the reader itself, and the one exception type it may refuse with. A refusal must have a message that contains
 * {@code fileName} (the reader names the file); anything else a read throws, and any read slower than the runner's
 * time limit, is a failure.
 *
 * @param name     the target's name in reports
 * @param seeds    valid inputs, mutated to make most inputs
 * @param hostile  hand-built hostile inputs (bombs, deep nesting, lying sizes), used as they are and mutated
 * @param reader   reads one input
 * @param refusal  the library's exception type for a refused input
 * @param fileName text every refusal's message must contain (the file's name), or null
 */
public record FuzzTarget(String name, List<byte[]> seeds, List<byte[]> hostile, Reader reader,
                         Class<? extends Exception> refusal, String fileName) {

    /** Reads one input; the result is discarded. */
    @FunctionalInterface
    public interface Reader {
        Object read(byte[] bytes) throws Exception;
    }

    /** A reader of files. */
    @FunctionalInterface
    public interface FileReader {
        Object read(Path file) throws Exception;
    }

    public FuzzTarget {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException(name + ": at least one seed is required");
        }
        seeds = List.copyOf(seeds);
        hostile = List.copyOf(hostile);
    }

    @Override
    public String toString() {
        return name;
    }

    /**
     * A target whose reader takes a file: each input is written to {@code fileName} in a fresh temporary folder
     * (one per target), then read.
     */
    public static FuzzTarget ofFile(String name, List<byte[]> seeds, List<byte[]> hostile, String fileName,
                                    FileReader reader, Class<? extends Exception> refusal) {
        Path file;
        try {
            file = Files.createTempDirectory("fuzz-" + name.replaceAll("[^A-Za-z0-9]", "_")).resolve(fileName);
            file.getParent().toFile().deleteOnExit();
            file.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new FuzzTarget(name, seeds, hostile, bytes -> {
            Files.write(file, bytes);
            return reader.read(file);
        }, refusal, fileName);
    }
}
