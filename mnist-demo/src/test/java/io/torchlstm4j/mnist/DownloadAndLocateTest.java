package io.torchlstm4j.mnist;

import com.sun.net.httpserver.HttpServer;
import io.torchlstm4j.cli.ExitCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The download path against a loopback HTTP server serving small generated IDX files, and the data fallbacks. */
class DownloadAndLocateTest {

    @TempDir
    Path work;

    private HttpServer server;
    /** path -> body served by the loopback server; a missing path is a 404. */
    private final Map<String, byte[]> served = new HashMap<>();
    private final List<String> notices = new ArrayList<>();
    private List<MnistDownloader.Resource> resources;

    @BeforeEach
    void startServer() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = served.get(exchange.getRequestURI().getPath());
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                if (body != null) out.write(body);
            }
        });
        server.start();
        byte[][] train = SyntheticIdx.images(20, 1);
        byte[][] test = SyntheticIdx.images(10, 2);
        resources = new ArrayList<>();
        String[] names = {IdxFiles.TRAIN_IMAGES, IdxFiles.TRAIN_LABELS, IdxFiles.TEST_IMAGES, IdxFiles.TEST_LABELS};
        byte[][] contents = {train[0], train[1], test[0], test[1]};
        for (int i = 0; i < 4; i++) {
            byte[] gz = SyntheticIdx.gzip(contents[i]);
            served.put("/good/" + names[i] + ".gz", gz);
            resources.add(new MnistDownloader.Resource(names[i] + ".gz", md5(gz), gz.length));
        }
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private URI mirror(String path) {
        return URI.create("http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":"
                + server.getAddress().getPort() + "/" + path + "/");
    }

    private static String md5(byte[] content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(content));
    }

    private DataLocator locator(List<URI> mirrors, Path fashion) {
        return locator(mirrors, false, fashion);
    }

    private DataLocator locator(List<URI> mirrors, boolean embedded, Path fashion) {
        MnistDownloader downloader = mirrors == null ? null : new MnistDownloader(mirrors, resources, notices::add);
        return new DataLocator(work, downloader, embedded, fashion, notices::add);
    }

    @Test
    void downloadsIntoMnistRawAndReadsIt() {
        DataLocator.Located data = locator(List.of(mirror("good")), work.resolve("no-fashion")).locate(null, true);
        assertEquals("MNIST", data.dataset());
        assertEquals(work.resolve(DataLocator.DEFAULT_RAW).toString(), data.source());
        assertEquals(20, data.train().size());
        assertEquals(10, data.test().size());
        long bytes = resources.stream().mapToLong(MnistDownloader.Resource::bytes).sum();
        assertEquals(String.format(Locale.ROOT, "Downloading MNIST (%s.gz, %s.gz, %s.gz, %s.gz, %.1f MB) from %s "
                        + "into %s (--no-download: skip it; md5-checked, nothing is kept unless all arrive)",
                IdxFiles.TRAIN_IMAGES, IdxFiles.TRAIN_LABELS, IdxFiles.TEST_IMAGES, IdxFiles.TEST_LABELS, bytes / 1e6,
                mirror("good"), work.resolve(DataLocator.DEFAULT_RAW)), notices.get(0));
        assertTrue(notices.get(1).startsWith("Downloading " + mirror("good") + IdxFiles.TRAIN_IMAGES + ".gz"));
    }

    @Test
    void triesTheNextMirrorAfterAMissingFileOrAWrongChecksum() {
        served.put("/corrupt/" + IdxFiles.TEST_IMAGES + ".gz", new byte[]{1, 2, 3});
        DataLocator.Located data = locator(List.of(mirror("corrupt"), mirror("good")), work.resolve("none"))
                .locate(null, true);
        assertEquals(10, data.test().size());
        assertTrue(notices.stream().anyMatch(n -> n.contains("HTTP status 404")), notices.toString());
        assertTrue(notices.stream().anyMatch(n -> n.startsWith("Failed to download " + mirror("corrupt")
                + IdxFiles.TEST_IMAGES + ".gz: md5 5289df737df57326fcdd22597afb1fac but ")), notices.toString());
    }

    @Test
    void aWrongChecksumLeavesNothingBehind() throws IOException {
        served.put("/bad/" + IdxFiles.TRAIN_IMAGES + ".gz", served.get("/good/" + IdxFiles.TRAIN_IMAGES + ".gz"));
        served.put("/bad/" + IdxFiles.TRAIN_LABELS + ".gz", served.get("/good/" + IdxFiles.TRAIN_LABELS + ".gz"));
        served.put("/bad/" + IdxFiles.TEST_IMAGES + ".gz", served.get("/good/" + IdxFiles.TEST_LABELS + ".gz"));
        MnistDownloader downloader = new MnistDownloader(List.of(mirror("bad")), resources, notices::add);
        Path target = work.resolve(DataLocator.DEFAULT_RAW);
        DataException e = assertThrows(DataException.class, () -> downloader.download(target));
        assertTrue(e.getMessage().startsWith("cannot download " + IdxFiles.TEST_IMAGES + ".gz (md5 "), e.getMessage());
        assertFalse(Files.exists(work.resolve("mnist")), "the download created folders and left them");
        try (var files = Files.list(work)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void keepsFilesThatWereThereBeforeAFailedDownload() throws IOException {
        Path target = Files.createDirectories(work.resolve(DataLocator.DEFAULT_RAW));
        Files.write(target.resolve("unrelated.txt"), new byte[]{42});
        MnistDownloader downloader = new MnistDownloader(List.of(mirror("nowhere")), resources, notices::add);
        assertThrows(DataException.class, () -> downloader.download(target));
        try (var files = Files.list(target)) {
            assertEquals(List.of(target.resolve("unrelated.txt")), files.toList());
        }
    }

    @Test
    void fallsBackToFashionMnistWithANoticeWhenTheDownloadFails() {
        Path fashion = SyntheticIdx.writeDataset(work.resolve("fashion"), 12, 6, true);
        DataLocator.Located data = locator(List.of(mirror("nowhere")), fashion).locate(null, true);
        assertEquals("Fashion-MNIST", data.dataset());
        assertEquals(12, data.train().size());
        String notice = notices.get(notices.size() - 1);
        assertTrue(notice.startsWith("NOTICE: MNIST is not in " + work.resolve(DataLocator.DEFAULT_RAW)
                + " and could not be downloaded (cannot download " + IdxFiles.TRAIN_IMAGES), notice);
        assertTrue(notice.contains("Falling back to Fashion-MNIST from " + fashion), notice);
        assertFalse(Files.exists(work.resolve("mnist")));
    }

    @Test
    void withoutAnyDataTheErrorSaysHowToGetIt() {
        DataException e = assertThrows(DataException.class,
                () -> locator(null, work.resolve("no-fashion")).locate(null, true));
        assertTrue(e.getMessage().startsWith("no data: MNIST is not in " + work.resolve(DataLocator.DEFAULT_RAW)),
                e.getMessage());
        assertTrue(e.getMessage().contains("downloads are off (--no-download)"), e.getMessage());
        assertTrue(e.hint().contains("install Debian's dataset-fashion-mnist"), e.hint());
        assertEquals(ExitCode.ENVIRONMENT, e.exitCode());
    }

    @Test
    void dataFolderIsReadDirectlyOrFromMnistRaw() {
        SyntheticIdx.writeDataset(work.resolve("root").resolve("MNIST").resolve("raw"), 8, 4, false);
        DataLocator.Located data = locator(null, work).locate(work.resolve("root"), true);
        assertEquals(work.resolve("root").resolve("MNIST").resolve("raw").toString(), data.source());
        assertEquals(work.resolve("root").toString(), data.dataset());
        assertEquals(8, data.train().size());
    }

    @Test
    void aTestOnlyFolderSuggestsHoldout() {
        Path dir = TestData.resource("mnist-subset");
        DataException e = assertThrows(DataException.class, () -> locator(null, work).locate(dir, true));
        assertEquals(dir + " lacks " + IdxFiles.TRAIN_IMAGES + " and " + IdxFiles.TRAIN_LABELS + " (each may be "
                + "gzipped, with .gz)", e.getMessage());
        assertEquals("this folder has only the test split: train on part of it with --holdout-from-test 2000",
                e.hint());
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertEquals(512, locator(null, work).locate(dir, false).test().size());
    }

    @Test
    void aMissingDataFolderIsAnError() {
        Path missing = work.resolve("missing");
        DataException e = assertThrows(DataException.class, () -> locator(null, work).locate(missing, false));
        assertTrue(e.getMessage().startsWith("--data " + missing + ": no such folder"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:1/", "http://mnist.invalid/"})
    void anUnreachableMirrorFallsThroughToTheEmbeddedTestSplitWithOneNotice(String unreachable) throws IOException {
        DataLocator.Located data = locator(List.of(URI.create(unreachable)), true, work.resolve("no-fashion"))
                .locate(null, true);

        assertEquals(EmbeddedMnist.NAME, data.dataset());
        assertEquals(8000, data.train().size());
        assertEquals(2000, data.test().size());
        assertTrue(notices.get(0).startsWith("Downloading MNIST ("), notices.toString());
        List<String> noticeLines = notices.stream().filter(n -> n.startsWith("NOTICE")).toList();
        assertEquals(List.of("NOTICE: MNIST is not in " + work.resolve(DataLocator.DEFAULT_RAW) + " and was not "
                + "downloaded (see above); using the MNIST test split embedded in the demo (CC BY-SA 3.0): training "
                + "on its last 8000 images, evaluating on its first 2000."), noticeLines);
        try (var files = Files.list(work)) {
            assertEquals(0, files.count(), "the failed download left files behind");
        }
    }

    @Test
    void theEmbeddedSplitIsTheRealTestSplitEvaluatedOnItsFirst2000() {
        DataLocator.Located data = locator(null, true, work.resolve("no-fashion")).locate(null, false);
        assertEquals(List.of("NOTICE: MNIST is not in " + work.resolve(DataLocator.DEFAULT_RAW) + " and was not "
                + "downloaded (--no-download); using the MNIST test split embedded in the demo (CC BY-SA 3.0): "
                + "training on its last 8000 images, evaluating on its first 2000."), notices);
        Images subset = TestData.subset(); // the first 512 test images, written by make_test_fixtures.py
        Images all = EmbeddedMnist.all();
        assertEquals(10_000, all.size());
        assertArrayEquals(subset.pixels(), all.first(512).pixels());
        assertArrayEquals(subset.labels(), all.first(512).labels());
        assertArrayEquals(all.first(2000).labels(), data.test().labels());
        assertArrayEquals(all.range(2000, 10_000).pixels(), data.train().pixels());
    }
}
