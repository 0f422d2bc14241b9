package io.torchlstm4j.cli;

import io.torchlstm4j.RuntimeInfo;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --version} for a picocli program built on the library ({@code @Command(versionProvider =
 * VersionProvider.class)}): the program's name and the {@code Implementation-Version} of its jar's manifest, the
 * library's version, then {@link RuntimeInfo#lines()} and the Java runtime. picocli makes one per command line;
 * not for concurrent use.
 */
public final class VersionProvider implements IVersionProvider {

    @Spec
    private CommandSpec spec;

    /** Made by picocli. */
    public VersionProvider() {
    }

    @Override
    public String[] getVersion() {
        RuntimeInfo info = RuntimeInfo.current();
        List<String> lines = new ArrayList<>();
        lines.add(spec.root().name() + " " + RuntimeInfo.versionOf(spec.root().userObject().getClass())
                + " (TorchLSTM4j " + info.version() + ")");
        lines.addAll(info.lines());
        lines.add("Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ") on "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        return lines.toArray(String[]::new);
    }
}
