package io.torchlstm4j.fuzz;

import io.torchlstm4j.io.Npz;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TensorFileException;
import io.torchlstm4j.io.TorchCheckpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The library's readers as fuzzing targets, with their seeds (the test resources numpy and the reference
 * safetensors writer made, and small files built here) and their hostile files, each built by code. A new reader
 * is one more line in {@link #all()}.
 */
public final class ReaderTargets {

    /** 2^28 float32 values: a member or body that inflates to 1 GiB. */
    static final int GIB_OF_FLOATS = 1 << 28;

    private ReaderTargets() {
    }

    /** Runs the targets named in {@code args} (all when none) as {@link FuzzRunner#runConfigured} does. */
    public static void main(String[] args) {
        for (FuzzTarget target : all()) {
            if (args.length == 0 || List.of(args).contains(target.name())) {
                FuzzRunner.runConfigured(target);
            }
        }
    }

    public static List<FuzzTarget> all() {
        return List.of(
                FuzzTarget.ofFile("safetensors", safetensorsSeeds(), safetensorsHostile(), "fuzz.safetensors",
                        Safetensors::read, TensorFileException.class),
                FuzzTarget.ofFile("npz", npzSeeds(), npzHostile(), "fuzz.npz", Npz::read, TensorFileException.class),
                torchCheckpoint("pt.zip", "model_f32_zip.pt", "model_f16_zip.pt", "model_f32_zip_protocol4.pt",
                        "views_zip.pt", "views_zip_big.pt", "checkpoint_zip.pt", "two_models_zip.pt"),
                torchCheckpoint("pt.legacy", "model_f32_legacy.pt", "model_bf16_legacy.pt", "views_legacy.pt",
                        "checkpoint_legacy.pt"));
    }

    /**
     * torch.save files (one of its two formats) read from memory; their hostile files are the refused fixtures
     * (whole pickled modules, pickles that name os.system, eval, numpy or a Java class).
     */
    static FuzzTarget torchCheckpoint(String name, String... seeds) {
        List<byte[]> hostile = resourcesIn("/pt/", name.endsWith("zip")
                ? new String[] {"module_zip.pt", "evil_os_system.pt", "evil_eval.pt", "evil_numpy.pt", "evil_java.pt"}
                : new String[] {"module_legacy.pt", "evil_os_system_legacy.pt"});
        return new FuzzTarget(name, resourcesIn("/pt/", seeds), hostile, bytes -> TorchCheckpoint.read(bytes, "fuzz.pt"),
                TensorFileException.class, "fuzz.pt");
    }

    static List<byte[]> safetensorsSeeds() {
        List<byte[]> seeds = new ArrayList<>(resources("lstm_l2.safetensors", "arrays.safetensors",
                "lstm_bi_nobias_f64_compressed.safetensors", "npy_versions.safetensors"));
        seeds.add(safetensors("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[24,48]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[48,56]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[56,56]}}", 56));
        return seeds;
    }

    /** Deep nesting, a 100,000-digit number, sizes and offsets at the edges of a long. */
    static List<byte[]> safetensorsHostile() {
        return List.of(
                safetensorsNestedShape(10_000),
                safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + "9".repeat(100_000)
                        + "],\"data_offsets\":[0,4]}}", 4),
                safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967299],\"data_offsets\":[0,"
                        + Long.MAX_VALUE + "]}}", 4),
                safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1073741824, 1073741824, 16],"
                        + "\"data_offsets\":[0,0]}}", 0),
                withLength(safetensors("{}", 0), Long.MAX_VALUE),
                withLength(safetensors("{}", 0), -1));
    }

    /** A safetensors file whose tensor {@code w} has a shape nested {@code depth} arrays deep. */
    public static byte[] safetensorsNestedShape(int depth) {
        return safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":" + "[".repeat(depth) + "1" + "]".repeat(depth)
                + ",\"data_offsets\":[0,4]}}", 4);
    }

    /** The 8-byte length, the JSON header padded to 8 bytes, then {@code dataBytes} bytes 1, 2, 3, .... */
    public static byte[] safetensors(String json, int dataBytes) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(header);
        while (b.position() < 8 + padded) b.put((byte) ' ');
        for (int i = 0; i < dataBytes; i++) b.put((byte) (i + 1));
        return b.array();
    }

    private static byte[] withLength(byte[] file, long length) {
        byte[] out = file.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return out;
    }

    static List<byte[]> npzSeeds() {
        List<byte[]> seeds = new ArrayList<>(resources("lstm_l2.npz", "arrays.npz", "lstm_bi_nobias_f64_compressed.npz",
                "npy_versions.npz", "model_rnn_prefix.npz"));
        seeds.add(Bombs.zip(List.of(
                Bombs.Member.deflated("w.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                        new byte[24]), 0),
                new Bombs.Member("b.npy".getBytes(StandardCharsets.UTF_8), 0,
                        npy("{'descr': '<i8', 'fortran_order': True, 'shape': (), }", new byte[8]), 0, 0)
                        .withTrueCrc())));
        return seeds;
    }

    /**
     * The hostile .npz files: a header nested 3,000 deep, a member that inflates to 1 GiB (sizes true),
     * the same with the zip directory saying 84 bytes, a 3-float header whose data inflates to 1 GiB, a name that
     * is not UTF-8, and an archive whose end record is cut.
     */
    static List<byte[]> npzHostile() {
        return List.of(npzNestedHeader(3000), npzBomb(GIB_OF_FLOATS, -1), npzBomb(GIB_OF_FLOATS, 84),
                npzLongerThanItsHeader(), npzNonUtf8Name(), npzEndRecordCut(10));
    }

    public static byte[] npzNestedHeader(int depth) {
        return Bombs.zip(List.of(Bombs.Member.deflated("a.npy", npy("{'descr': '<f4', 'fortran_order': False, "
                + "'shape': " + "[".repeat(depth) + "]".repeat(depth) + ", }", new byte[0]), 0)));
    }

    /**
     * A float32 member of {@code floats} zeros (a multiple of 2^18), deflated; {@code declared} is the size the
     * zip directory states, -1 for the true one.
     */
    public static byte[] npzBomb(int floats, long declared) {
        byte[] header = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + floats + ",), }", new byte[0]);
        Bombs.Member member = Bombs.Member.deflated("a.npy", header, floats / (1 << 18));
        return Bombs.zip(List.of(declared < 0 ? member : member.declaring(declared)));
    }

    /** A header of 3 float32 values, directory size true to the header, but data that inflates to 1 GiB. */
    public static byte[] npzLongerThanItsHeader() {
        byte[] header = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[0]);
        return Bombs.zip(List.of(Bombs.Member.deflated("a.npy", header, 1024).declaring(header.length + 12)));
    }

    /** One valid member whose name is 'a', the byte 0xFF, '.npy'. */
    public static byte[] npzNonUtf8Name() {
        return Bombs.zip(List.of(Bombs.Member.deflated("a.npy", npy("{'descr': '<f4', 'fortran_order': False, "
                + "'shape': (1,), }", new byte[4]), 0).named(new byte[] {'a', (byte) 0xFF, '.', 'n', 'p', 'y'})));
    }

    /** A valid archive without the last {@code cut} bytes of its end record. */
    public static byte[] npzEndRecordCut(int cut) {
        byte[] valid = npzSeeds().get(0);
        return Arrays.copyOf(valid, valid.length - cut);
    }

    /** A .npy entry, format 1.0: magic, version, 2-byte header length, header, data. */
    public static byte[] npy(String header, byte[] data) {
        byte[] text = (header + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length).put(text).put(data);
        return b.array();
    }

    /** Test resources under {@code weights/}. */
    static List<byte[]> resources(String... names) {
        return resourcesIn("/weights/", names);
    }

    /** Test resources under {@code folder} (absolute, ending with '/'). */
    static List<byte[]> resourcesIn(String folder, String... names) {
        List<byte[]> files = new ArrayList<>();
        for (String name : names) {
            try (InputStream in = ReaderTargets.class.getResourceAsStream(folder + name)) {
                if (in == null) throw new IllegalStateException("no test resource " + folder + name);
                files.add(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }
}
