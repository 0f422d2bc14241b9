package io.torchlstm4j.benchmarks;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

    /** USER_HZ: clock ticks per second in /proc/PID/stat (100 on every Linux architecture in use). */
    private static final int CLOCK_TICKS = 100;

    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final BufferedWriter in;
    private boolean paused;

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

    /**
     * Stops the whole process (SIGSTOP, every thread of it) until {@link #resume}: a paused worker's threads cannot
     * run, so nothing its framework left spinning (an OpenMP team after an op, OpenBLAS's worker threads) competes
     * with the worker being timed.
     */
    void pause() throws IOException {
        if (!paused && process.isAlive()) {
            signal("STOP");
            paused = true;
        }
    }

    /** Lets a paused process run again (SIGCONT). */
    void resume() throws IOException {
        if (paused) {
            signal("CONT");
            paused = false;
        }
    }

    private void signal(String signal) throws IOException {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (kill.waitFor() != 0) {
                throw new IOException("kill -" + signal + " " + process.pid() + " (worker " + name + ") failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while signalling worker " + name, e);
        }
    }

    /**
     * CPU time (user + system, all threads) the process has used so far, from /proc/PID/stat; -1 when it cannot be
     * read (not Linux, or the process is gone).
     */
    double cpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15, in clock ticks
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / (double) CLOCK_TICKS;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
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
        try {
            resume();
        } catch (IOException e) {
            System.err.println(e.getMessage() + "; killing it");
            process.destroyForcibly();
        }
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
