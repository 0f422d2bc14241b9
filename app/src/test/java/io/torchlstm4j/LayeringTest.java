package io.torchlstm4j;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Holds the library to its layers (docs/design.md, "Layers"): every package of the compiled library may use only the
 * packages of its row below, and the packages never form a cycle. The uses are read from the constant pools of the
 * compiled classes (every class, field and method type a class names), as {@code jdeps} reads them.
 */
class LayeringTest {

    private static final String ROOT = "io.torchlstm4j";

    /** Each package (without the {@code io.torchlstm4j} prefix; "" is the API) and the packages it may use. */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "", Set.of("core", "engine", "weights", "io", "platform"),
            "core", Set.of(),
            "io", Set.of(),
            "train", Set.of(),
            "platform", Set.of(),
            "kernel", Set.of("core", "platform"),
            "weights", Set.of("core", "io"),
            "engine", Set.of("core"),
            // engines never see PyTorch's names: parameters cross the seam as core.ParameterKey, never via weights
            "engine.reference", Set.of("core", "engine"),
            "engine.fast", Set.of("core", "engine", "kernel", "platform"));

    private static final Pattern REFERENCE = Pattern.compile("io/torchlstm4j/((?:[a-z][a-z0-9_]*/)*)[A-Za-z_$][\\w$]*");

    @Test
    void everyPackageUsesOnlyTheLayersBelowIt() throws IOException, URISyntaxException {
        Map<String, Set<String>> uses = packageUses();
        assertTrue(uses.containsKey("engine.fast") && uses.containsKey("kernel"), "read the library's classes: " + uses);
        List<String> problems = new ArrayList<>();
        uses.forEach((from, targets) -> {
            Set<String> allowed = ALLOWED.get(from);
            if (allowed == null) {
                problems.add(name(from) + " is not in the table of layers (add it to docs/design.md and here)");
                return;
            }
            for (String to : targets) {
                if (!allowed.contains(to)) {
                    problems.add(name(from) + " uses " + name(to) + ", which it may not (it may use " + allowed + ")");
                }
            }
        });
        assertEquals(List.of(), problems);
    }

    @Test
    void packagesFormNoCycle() throws IOException, URISyntaxException {
        Map<String, Set<String>> uses = packageUses();
        for (String start : uses.keySet()) {
            List<String> cycle = pathBack(uses, start, start, new TreeSet<>());
            assertFalse(cycle != null, () -> "package cycle: " + name(start) + " -> " + String.join(" -> ",
                    cycle.stream().map(LayeringTest::name).toList()));
        }
    }

    /**
     * Below the PyTorch boundary nothing spells a PyTorch parameter name, not even in a message: names are translated
     * to {@code core.ParameterKey}s in {@code weights.TorchParameterNames} and nowhere else.
     */
    @Test
    void enginesKernelPlatformAndCoreSpellNoPyTorchParameterName() throws IOException, URISyntaxException {
        Pattern torchName = Pattern.compile("(weight|bias)_(ih|hh|hr)");
        Set<String> nameFree = Set.of("core", "engine", "engine.reference", "engine.fast", "kernel", "platform");
        List<String> problems = new ArrayList<>();
        int read = 0;
        for (Map.Entry<Path, String> file : classFiles().entrySet()) {
            if (!nameFree.contains(file.getValue())) {
                continue;
            }
            read++;
            try (InputStream in = Files.newInputStream(file.getKey())) {
                for (String text : utf8Constants(in)) {
                    if (torchName.matcher(text).find()) {
                        problems.add(file.getKey().getFileName() + " (" + name(file.getValue()) + "): \"" + text
                                + "\"");
                    }
                }
            }
        }
        assertTrue(read > 20, "read the engines' classes: " + read);
        assertEquals(List.of(), problems);
    }

    /** A path of uses from {@code at} to {@code target}, or null. */
    private static List<String> pathBack(Map<String, Set<String>> uses, String at, String target, Set<String> seen) {
        for (String next : uses.getOrDefault(at, Set.of())) {
            if (next.equals(target)) {
                return new ArrayList<>(List.of(next));
            }
            if (seen.add(next)) {
                List<String> rest = pathBack(uses, next, target, seen);
                if (rest != null) {
                    rest.add(0, next);
                    return rest;
                }
            }
        }
        return null;
    }

    private static String name(String pkg) {
        return pkg.isEmpty() ? ROOT : ROOT + "." + pkg;
    }

    /** For each library package, the other library packages its classes name. */
    private static Map<String, Set<String>> packageUses() throws IOException, URISyntaxException {
        Map<String, Set<String>> uses = new TreeMap<>();
        for (Map.Entry<Path, String> file : classFiles().entrySet()) {
            String from = file.getValue();
            Set<String> targets = uses.computeIfAbsent(from, k -> new TreeSet<>());
            try (InputStream in = Files.newInputStream(file.getKey())) {
                for (String text : utf8Constants(in)) {
                    Matcher m = REFERENCE.matcher(text);
                    while (m.find()) {
                        String to = packageOf("io/torchlstm4j/" + m.group(1));
                        if (to != null && !to.equals(from)) {
                            targets.add(to);
                        }
                    }
                }
            }
        }
        return uses;
    }

    /** Every class file of the compiled library with its package (as {@link #ALLOWED} names it). */
    private static Map<Path, String> classFiles() throws IOException, URISyntaxException {
        Path classes = Path.of(TorchLstm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<Path, String> packages = new TreeMap<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String pkg = packageOf(classes.relativize(file.getParent()).toString().replace('\\', '/') + "/");
                if (pkg != null) {
                    packages.put(file, pkg);
                }
            }
        }
        return packages;
    }

    /** "io/torchlstm4j/engine/fast/" -> "engine.fast"; "io/torchlstm4j/" -> ""; null outside the library. */
    private static String packageOf(String directory) {
        String prefix = "io/torchlstm4j/";
        if (!directory.startsWith(prefix)) {
            return null;
        }
        String rest = directory.substring(prefix.length());
        return rest.isEmpty() ? "" : rest.substring(0, rest.length() - 1).replace('/', '.');
    }

    /** The UTF-8 entries of a class file's constant pool (JVMS 4.4): class names, descriptors, signatures. */
    private static List<String> utf8Constants(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        List<String> texts = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> texts.add(in.readUTF());
                case 7, 8, 16, 19, 20 -> in.readUnsignedShort();
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        return texts;
    }
}
