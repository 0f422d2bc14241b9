package io.torchlstm4j.benchmarks;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The coordinator's handle on one worker process (see {@link Worker} for the protocol). */
final class WorkerProcess implements AutoCloseable {

    /** A reply: status (ok, unavailable, error, first_forward, vmhwm_kib) and payload. */
    record Reply(String status, String payload) {
    }

    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final BufferedWriter in;

    private WorkerProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    }

    /**
     * Starts {@code command} with {@code env} added and {@code OPENBLAS_CORETYPE} removed (each framework's OpenBLAS
     * then picks its kernels by its own CPU detection, as on a machine without that variable); its stderr is
     * appended to {@code log}.
     */
    static WorkerProcess start(String name, List<String> command, Map<String, String> env, Path log)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("OPENBLAS_CORETYPE");
        builder.environment().putAll(env);
        builder.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return new WorkerProcess(name, builder.start());
    }

    /** Sends one command line and waits for its reply. */
    Reply request(String line) throws IOException {
        in.write(line);
        in.newLine();
        in.flush();
        return next();
    }

    /** The next reply line; other stdout lines (printed by libraries) are skipped. */
    Reply next() throws IOException {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("BENCH ")) {
                String rest = line.substring(6);
                int space = rest.indexOf(' ');
                return space < 0 ? new Reply(rest, "") : new Reply(rest.substring(0, space), rest.substring(space + 1));
            }
        }
        throw new IOException("worker " + name + " ended without a reply (exit code "
                + (process.isAlive() ? "-" : Integer.toString(waitExit())) + "); see its log");
    }

    /** Nanosecond timings of an ok reply to {@code run}. */
    static List<Long> times(Reply reply) {
        List<Long> times = new ArrayList<>();
        for (String t : reply.payload().trim().split("\\s+")) {
            times.add(Long.parseLong(t));
        }
        return times;
    }

    /** Waits for the worker to exit (60 s), else kills it and waits until it is gone, so no worker overlaps the next phase. */
    int waitExit() {
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                System.err.println("worker " + name + " did not exit within 60 s of quit: killing it");
                process.destroyForcibly().waitFor();
                return -1;
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return -1;
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                in.write("quit");
                in.newLine();
                in.flush();
                in.close();
            } catch (IOException e) {
                // the worker is gone already; nothing to tell it
            }
            waitExit();
        }
    }
}
