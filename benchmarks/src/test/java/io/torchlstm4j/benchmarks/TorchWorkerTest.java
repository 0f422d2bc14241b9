package io.torchlstm4j.benchmarks;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PyTorch worker understands the words the coordinator sends (needs /usr/bin/python3 with torch). */
class TorchWorkerTest {

    @Test
    void torchWorkerTimesEachIterationOfATutorialForward() throws Exception {
        Path log = Files.createTempFile("torch-worker", ".log");
        List<String> command = List.of("/usr/bin/python3", Path.of("torch_worker.py").toAbsolutePath().toString());
        try (WorkerProcess worker = WorkerProcess.start("pytorch", command, Main.env(1), log)) {
            WorkerProcess.Reply info = worker.request("info");
            assertEquals("ok", info.status(), info.payload());
            assertTrue(info.payload().contains("torch.get_num_threads=1"), info.payload());
            String run = "run " + String.join(" ", Case.tutorial("lstm_forward", true).with("lstm_forward", "pytorch").words())
                    + " iters=3";
            WorkerProcess.Reply reply = worker.request(run);
            assertEquals("ok", reply.status(), reply.payload());
            List<Long> times = WorkerProcess.times(reply);
            assertEquals(3, times.size());
            assertTrue(times.stream().allMatch(t -> t > 0), times.toString());
            for (String kind : List.of("lstm_step", "lstm_step_unbatched")) {
                WorkerProcess.Reply step = worker.request("run " + String.join(" ",
                        Case.online(kind).with(kind, "pytorch").words()) + " iters=4");
                assertEquals("ok", step.status(), kind + ": " + step.payload());
                assertEquals(4, WorkerProcess.times(step).size(), kind + ": " + step.payload());
            }
            WorkerProcess.Reply bad = worker.request("run kind=nonsense");
            assertEquals("error", bad.status());
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
