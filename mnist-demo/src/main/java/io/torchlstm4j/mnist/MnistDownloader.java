package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Downloads MNIST's four gzipped IDX files as torchvision does: each file from the first mirror that serves it
 * with the expected MD5. Each file is written to a temporary file in the target folder and moved into place only
 * when complete and verified; when any file cannot be had, every file and folder this download created is removed
 * again, so a failed download leaves nothing behind.
 *
 * @param mirrors   base URLs, tried in order (ending with '/')
 * @param resources file names with their MD5
 * @param notice    receives progress lines (for stderr)
 */
public record MnistDownloader(List<URI> mirrors, List<Resource> resources, Consumer<String> notice) {

    /** A file to download, its MD5 (lower-case hex) and its size in bytes (for the announcement). */
    public record Resource(String fileName, String md5, long bytes) {
    }

    /** torchvision's {@code MNIST.mirrors}. */
    public static final List<URI> TORCHVISION_MIRRORS = List.of(
            URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"),
            URI.create("http://yann.lecun.com/exdb/mnist/"));

    /** torchvision's {@code MNIST.resources}. */
    public static final List<Resource> MNIST_RESOURCES = List.of(
            new Resource(IdxFiles.TRAIN_IMAGES + ".gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
            new Resource(IdxFiles.TRAIN_LABELS + ".gz", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
            new Resource(IdxFiles.TEST_IMAGES + ".gz", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
            new Resource(IdxFiles.TEST_LABELS + ".gz", "ec29112dd5afa0611ce80d1b7f02629c", 4_542));

    /** A machine without network must not wait long before the demo falls back to the embedded split. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Copies the lists; a mirror URL without a trailing '/' gets one. */
    public MnistDownloader {
        mirrors = mirrors.stream().map(m -> m.toString().endsWith("/") ? m : URI.create(m + "/")).toList();
        resources = List.copyOf(resources);
    }

    /** A downloader with torchvision's mirrors and files. */
    public static MnistDownloader torchvision(Consumer<String> notice) {
        return new MnistDownloader(TORCHVISION_MIRRORS, MNIST_RESOURCES, notice);
    }

    /**
     * Downloads every resource into {@code dir} (created if missing); a file already there with the right MD5 is
     * kept. Before the first byte it says what it downloads, from where and how much.
     *
     * @throws DataException naming each file and mirror that failed, after removing what this call created
     */
    public void download(Path dir) {
        List<Path> created = new ArrayList<>();
        try {
            List<Resource> wanted = new ArrayList<>();
            for (Resource r : resources) {
                Path target = dir.resolve(r.fileName());
                if (!(Files.isRegularFile(target) && r.md5().equals(md5(target)))) {
                    wanted.add(r);
                }
            }
            if (wanted.isEmpty()) {
                return;
            }
            announce(wanted, dir);
            createDirectories(dir.toAbsolutePath(), created);
            for (Resource r : wanted) {
                Path target = dir.resolve(r.fileName());
                fetch(r, target);
                created.add(target);
            }
        } catch (IOException | DataException e) {
            for (int i = created.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(created.get(i));
                } catch (IOException ignored) {
                    // a folder that is no longer empty stays
                }
            }
            throw e instanceof DataException d ? d
                    : new DataException(ExitCode.ENVIRONMENT, "cannot download MNIST into " + dir + ": " + e, null, e);
        }
    }

    private void announce(List<Resource> wanted, Path dir) {
        long bytes = wanted.stream().mapToLong(Resource::bytes).sum();
        notice.accept(String.format(Locale.ROOT, "Downloading MNIST (%s, %.1f MB) from %s into %s "
                        + "(--no-download: skip it; md5-checked, nothing is kept unless all arrive)",
                String.join(", ", wanted.stream().map(Resource::fileName).toList()), bytes / 1e6,
                String.join(" or ", mirrors.stream().map(URI::toString).toList()), dir));
    }

    private static void createDirectories(Path dir, List<Path> created) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        createDirectories(dir.getParent(), created);
        Files.createDirectory(dir);
        created.add(dir);
    }

    private void fetch(Resource r, Path target) throws IOException {
        List<String> failures = new ArrayList<>();
        HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        for (URI mirror : mirrors) {
            URI url = mirror.resolve(r.fileName());
            notice.accept("Downloading " + url + " to " + target);
            Path tmp = Files.createTempFile(target.getParent(), "." + r.fileName() + ".", ".part");
            try {
                String failure = fetchInto(client, url, tmp, r.md5());
                if (failure == null) {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    return;
                }
                failures.add(url + ": " + failure);
                notice.accept("Failed to download " + url + ": " + failure);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        throw new DataException(ExitCode.ENVIRONMENT, "cannot download " + r.fileName() + " (md5 " + r.md5()
                + ") from any mirror: " + (failures.isEmpty() ? "no mirror configured" : String.join("; ", failures)),
                null, null);
    }

    /** Downloads into {@code tmp}; returns null when it arrived with the expected MD5, else what went wrong. */
    private static String fetchInto(HttpClient client, URI url, Path tmp, String expectedMd5) {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(TIMEOUT).GET().build();
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    return "HTTP status " + response.statusCode();
                }
                MessageDigest digest = md5Digest();
                try (InputStream in = new DigestInputStream(body, digest); OutputStream out = Files.newOutputStream(tmp)) {
                    in.transferTo(out);
                }
                String md5 = HexFormat.of().formatHex(digest.digest());
                return md5.equals(expectedMd5) ? null : "md5 " + md5 + " but " + expectedMd5 + " was expected";
            }
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** The MD5 of a file, lower-case hex. */
    static String md5(Path file) throws IOException {
        MessageDigest digest = md5Digest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest md5Digest() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }
}
