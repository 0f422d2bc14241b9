package io.torchlstm4j.verify.cli;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.io.TensorFileException;
import io.torchlstm4j.verify.FixtureComparison;
import io.torchlstm4j.weights.ParityFixture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code compare}: runs PyTorch parity fixtures on the adapter and compares every recorded tensor. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compares the adapter with PyTorch runs recorded as parity fixtures.", "",
                "For each fixture (format: docs/parity-fixtures.md in the source repository) rebuilds the LSTM from its state_dict, "
                        + "runs its input with its (h0, c0) and lengths when present, and prints max |difference| "
                        + "and pass/fail for output, h_n and c_n, and for every parameter's gradient when the "
                        + "fixture records gradients."},
        footer = "%nWhen several fixtures fail differently, the exit code is the first that applies of "
                + "3 (a fixture cannot be read), 1 (a tensor differs), 4 (a fixture needs an unsupported feature).%n")
final class CompareCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FIXTURE.safetensors", description = "parity fixtures")
    private List<Path> fixtures;

    @Option(names = "--atol", paramLabel = "TOL",
            description = "tolerance of output, h_n and c_n (default: 1e-5 for float32, 1e-10 for float64)")
    private Double atol;

    @Option(names = "--grad-atol", paramLabel = "TOL",
            description = "tolerance of the gradients (default: 1e-4 for float32, 1e-9 for float64)")
    private Double gradientAtol;

    @Option(names = "--gradients", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "compare the gradients a fixture records (default: true; --no-gradients: forward only)")
    private boolean gradients;

    @Option(names = "--engine", paramLabel = "fast|reference",
            description = "the adapter's engine (default: the adapter's default for each configuration)")
    private Engine engine;

    @Option(names = "--json", description = "print the results as JSON instead of text")
    private boolean json;

    /** The outcome of one fixture: a comparison, or why there is none. */
    private record Outcome(Path file, FixtureComparison.Result result, Map<String, String> metadata, String error) {
        String status() {
            if (error != null) return "error";
            if (result.mismatch()) return "mismatch";
            return result.unsupported() != null ? "unsupported" : "pass";
        }
    }

    @Override
    public Integer call() {
        Options.checkTolerance(spec, "--atol", atol);
        Options.checkTolerance(spec, "--grad-atol", gradientAtol);
        List<Outcome> outcomes = new ArrayList<>();
        for (Path file : fixtures) {
            outcomes.add(compare(file));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        for (Outcome o : outcomes) {
            if (o.error() != null) {
                err.println("error: " + o.error());
            }
        }
        err.flush();
        if (json) {
            out.println(Json.write(toJson(outcomes)));
        } else {
            print(outcomes, out);
        }
        out.flush();
        return exitCode(outcomes);
    }

    private Outcome compare(Path file) {
        ParityFixture fixture;
        try {
            fixture = ParityFixture.read(file);
        } catch (TensorFileException e) {
            return new Outcome(file, null, Map.of(), e.getMessage());
        } catch (NoSuchFileException e) {
            return new Outcome(file, null, Map.of(), "cannot read " + file + ": no such file");
        } catch (AccessDeniedException e) {
            return new Outcome(file, null, Map.of(), "cannot read " + file + ": permission denied");
        } catch (IOException e) {
            return new Outcome(file, null, Map.of(), "cannot read " + file + ": " + e.getMessage());
        }
        FixtureComparison.Result result = FixtureComparison.compare(fixture, engine,
                atol == null ? Double.NaN : atol, gradientAtol == null ? Double.NaN : gradientAtol, gradients);
        return new Outcome(file, result, fixture.metadata(), null);
    }

    private static int exitCode(List<Outcome> outcomes) {
        if (outcomes.stream().anyMatch(o -> o.error() != null)) return ExitCode.BAD_INPUT.code();
        if (outcomes.stream().anyMatch(o -> o.result().mismatch())) return ExitCode.FAILED.code();
        if (outcomes.stream().anyMatch(o -> o.result().unsupported() != null)) return ExitCode.UNSUPPORTED.code();
        return ExitCode.OK.code();
    }

    private static void print(List<Outcome> outcomes, PrintWriter out) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String status : List.of("pass", "mismatch", "unsupported", "error")) counts.put(status, 0);
        for (Outcome o : outcomes) {
            counts.merge(o.status(), 1, Integer::sum);
            if (o.error() != null) {
                out.println(o.file() + ": ERROR (cannot be read, see stderr)");
                continue;
            }
            FixtureComparison.Result r = o.result();
            out.println(o.file() + ": " + r.config() + ", " + Formats.dtype(r.dataType())
                    + ", torch " + o.metadata().getOrDefault("torch_version", "?") + ", engine " + r.engine());
            if (!r.tensors().isEmpty()) {
                Table table = new Table("  tensor", "shape", "max |diff|", "atol", "worst index", "result");
                for (FixtureComparison.TensorResult t : r.tensors()) {
                    table.row("  " + t.tensor(), t.shape().toString(), Formats.number(t.maxAbsDifference()),
                            Formats.number(t.atol()), t.worstIndex().toString(), Formats.result(t.passed()));
                }
                table.print(out);
            }
            if (r.unsupported() != null) {
                out.println("  UNSUPPORTED: " + r.unsupported());
            }
        }
        out.println(outcomes.size() + " fixture(s): " + counts.get("pass") + " passed, " + counts.get("mismatch")
                + " with mismatches, " + counts.get("unsupported") + " unsupported, " + counts.get("error")
                + " unreadable");
    }

    private Map<String, Object> toJson(List<Outcome> outcomes) {
        List<Object> list = new ArrayList<>();
        for (Outcome o : outcomes) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("file", o.file().toString());
            entry.put("status", o.status());
            if (o.error() != null) {
                entry.put("error", o.error());
            } else {
                FixtureComparison.Result r = o.result();
                entry.put("module", r.config().toString());
                entry.put("dtype", Formats.dtype(r.dataType()));
                entry.put("torch_version", o.metadata().get("torch_version"));
                entry.put("engine", r.engine().toString());
                List<Object> tensors = new ArrayList<>();
                for (FixtureComparison.TensorResult t : r.tensors()) {
                    Map<String, Object> tensor = new LinkedHashMap<>();
                    tensor.put("name", t.tensor());
                    tensor.put("shape", t.shape());
                    tensor.put("max_abs_difference", t.maxAbsDifference());
                    tensor.put("worst_index", t.worstIndex());
                    tensor.put("atol", t.atol());
                    tensor.put("passed", t.passed());
                    tensors.add(tensor);
                }
                entry.put("tensors", tensors);
                entry.put("unsupported", r.unsupported());
            }
            list.add(entry);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("fixtures", list);
        json.put("exit_code", exitCode(outcomes));
        return json;
    }
}
