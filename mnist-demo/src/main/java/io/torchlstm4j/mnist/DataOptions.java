package io.torchlstm4j.mnist;

import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** Where the data comes from: {@code --data}, {@code --no-download}, {@code --mirror} (the chain: {@link DataLocator}). */
final class DataOptions {

    @Option(names = "--data", paramLabel = "DIR",
            description = "Folder with MNIST's IDX files (gzipped or not), directly or in DIR/MNIST/raw. Without it: "
                    + "mnist/MNIST/raw in the working directory, else full MNIST downloaded there (11.6 MB, "
                    + "md5-checked), else the MNIST test split embedded in the demo (trained on its last 8000 images, "
                    + "evaluated on its first 2000).")
    Path data;

    @Option(names = "--no-download", description = "Without --data: do not try to download MNIST.")
    boolean noDownload;

    @Option(names = "--mirror", paramLabel = "URL",
            description = "Base URL to download MNIST's files from, instead of torchvision's mirrors (repeatable).")
    List<URI> mirrors;

    DataLocator.Located locate(boolean needTrain, Consumer<String> notice) {
        MnistDownloader downloader = noDownload ? null : new MnistDownloader(
                mirrors == null ? MnistDownloader.TORCHVISION_MIRRORS : mirrors, MnistDownloader.MNIST_RESOURCES, notice);
        return new DataLocator(Path.of(""), downloader, true, DataLocator.DEBIAN_FASHION_MNIST, notice)
                .locate(data, needTrain);
    }
}
