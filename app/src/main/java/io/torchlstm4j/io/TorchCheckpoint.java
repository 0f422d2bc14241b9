package io.torchlstm4j.io;

import io.torchlstm4j.io.SafeUnpickler.Bytes;
import io.torchlstm4j.io.SafeUnpickler.Global;
import io.torchlstm4j.io.SafeUnpickler.PyDict;
import io.torchlstm4j.io.SafeUnpickler.PyList;
import io.torchlstm4j.io.SafeUnpickler.TensorRef;
import io.torchlstm4j.io.SafeUnpickler.Tuple;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Reads the state_dict of a PyTorch checkpoint written by {@code torch.save}: {@code torch.save(model.state_dict(),
 * "model.pt")}, or a training checkpoint such as {@code torch.save({"model": sd, "optimizer": opt.state_dict(),
 * "epoch": 3}, "ckpt.pth")}. Both of PyTorch's formats:
 * <ul>
 *   <li>zip (PyTorch >= 1.6): {@code <archive>/data.pkl} (the pickle), {@code <archive>/data/<key>} (one entry per
 *   storage), {@code <archive>/version}, and from PyTorch 2.1 {@code <archive>/byteorder} ("little" or "big");
 *   {@code <archive>} is any single top folder;</li>
 *   <li>legacy ({@code _use_new_zipfile_serialization=False}): the pickles of the magic number, the protocol version
 *   1001, the system info, the data and the list of storage keys, then each storage in that order as an 8-byte
 *   little-endian element count and its little-endian bytes.</li>
 * </ul>
 * Tensors come back as PyTorch rebuilds them (storage offset, strides, several tensors sharing one storage), in C
 * order: float32, float64, int64, int32 and bool as FLOAT, DOUBLE, LONG, INT and BOOL; float16 and bfloat16 as
 * FLOAT, exactly (every half value is a float32), said once per file in the log. Other dtypes are refused by tensor.
 *
 * <p>Which dict is the state_dict: the dicts of tensors under string keys, at the top level or nested under string
 * keys ("model", "ema.module"). With no key given, the only one; among several, the only one holding a name that
 * {@code expectedName} accepts; a {@code checkpointKey} names one directly (dotted path for nested ones). Every
 * refusal names the candidates.
 *
 * <p>Safety as {@code torch.load(..., weights_only=True)}: the pickle is run by {@link SafeUnpickler}, which only
 * accepts the globals that rebuild tensors and containers; any other global is refused by name (a whole pickled
 * module, {@code torch.save(model)}, with "save model.state_dict() instead") and nothing from the file chooses a
 * Java class or runs code. Every size and offset is checked against the file, with overflow-checked arithmetic,
 * before anything is allocated; bytes made beyond those read (inflated entries, tensors made of views that share
 * storage) are bounded by 16 MiB plus 4 times the file's size. Any input gives the state_dict or a
 * {@link TensorFileException} naming the file, what was expected and what was found.
 *
 * <p>Stateless; safe for concurrent use (each call reads its own file).
 */
public final class TorchCheckpoint {

    private static final Logger LOG = LoggerFactory.getLogger(TorchCheckpoint.class);
    /** The largest pickle accepted: a state_dict's pickle takes some hundred bytes per tensor. */
    static final long MAX_PICKLE_BYTES = 256L << 20;
    static final long FIXED_ALLOWANCE = 16L << 20;
    static final long EXPANSION = 4;
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950A86A20F9469CFC6C", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    private static final byte[] LEGACY_START = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a};
    private static final int MAX_SEARCH_DEPTH = 16;
    private static final Predicate<String> ANY_NAME = name -> true;

    /** A storage named by a persistent id: its dtype, element count and where its bytes are. */
    private static final class Storage {
        final String key;
        final TorchDtype dtype;
        final long numel;
        final ZipArchive.Entry entry;
        long legacyOffset = -1;

        Storage(String key, TorchDtype dtype, long numel, ZipArchive.Entry entry) {
            this.key = key;
            this.dtype = dtype;
            this.numel = numel;
            this.entry = entry;
        }
    }

    /** The unpickled root object and how to read its storages' bytes. */
    private record Parsed(Object root, ZipArchive zip, ByteOrder order) {
    }

    private TorchCheckpoint() {
    }

    /** The state_dict of a .pt/.pth file: the only one in it (see the class comment). */
    public static Map<String, INDArray> read(Path file) throws IOException {
        return read(file, null, ANY_NAME);
    }

    /**
     * The state_dict of a .pt/.pth file.
     *
     * @param checkpointKey the state_dict's key in a training checkpoint, dotted for nested ones ("model",
     *                      "ema.module"); null to find it
     * @param expectedName  accepts the parameter names the caller expects; decides between several state_dicts
     *                      when no key is given
     */
    public static Map<String, INDArray> read(Path file, String checkpointKey, Predicate<String> expectedName)
            throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ByteSource.of(file, channel), checkpointKey, expectedName);
        }
    }

    /**
     * The state_dict of a checkpoint held in memory; {@code name} stands for the file in messages. The single
     * entry point for fuzzing: any input gives a map or a {@link TensorFileException}.
     */
    public static Map<String, INDArray> read(byte[] bytes, String name) throws TensorFileException {
        return read(bytes, name, null, ANY_NAME);
    }

    /** {@link #read(Path, String, Predicate)} for a checkpoint held in memory. */
    public static Map<String, INDArray> read(byte[] bytes, String name, String checkpointKey,
                                             Predicate<String> expectedName) throws TensorFileException {
        Path file;
        try {
            file = Path.of(name);
        } catch (InvalidPathException e) {
            file = Path.of("checkpoint");
        }
        try {
            return read(ByteSource.of(file, bytes), checkpointKey, expectedName);
        } catch (TensorFileException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("an in-memory read failed", e);
        }
    }

    private static Map<String, INDArray> read(ByteSource source, String checkpointKey, Predicate<String> expectedName)
            throws IOException {
        long size = source.size();
        ZipArchive.Budget budget = new ZipArchive.Budget(source,
                FIXED_ALLOWANCE + (size > Long.MAX_VALUE / (2 * EXPANSION) ? Long.MAX_VALUE / 2 : EXPANSION * size));
        Map<String, Storage> storages = new LinkedHashMap<>();
        Parsed parsed;
        if (ZipArchive.looksLikeZip(source)) {
            parsed = readZip(source, budget, storages);
        } else if (size >= LEGACY_START.length
                && java.util.Arrays.equals(source.read(0, LEGACY_START.length, "the start"), LEGACY_START)) {
            parsed = readLegacy(source, storages);
        } else {
            throw notCheckpoint(source);
        }
        Map.Entry<String, PyDict> chosen = choose(source, parsed.root(), checkpointKey,
                expectedName == null ? ANY_NAME : expectedName);
        return materialize(source, parsed, chosen.getKey(), chosen.getValue(), budget);
    }

    private static Parsed readZip(ByteSource source, ZipArchive.Budget budget, Map<String, Storage> storages)
            throws IOException {
        ZipArchive zip = ZipArchive.read(source, budget);
        Map<String, ZipArchive.Entry> entries = zip.entries();
        String prefix = null;
        for (String name : entries.keySet()) {
            int slash = name.indexOf('/');
            String top = slash <= 0 ? null : name.substring(0, slash + 1);
            if (top == null || prefix != null && !prefix.equals(top)) {
                throw corrupt(source, "its entries must all lie in one top folder (as torch.save writes them), but "
                        + "'" + name + "'" + (prefix == null ? " has none" : " is not in '" + prefix + "'"));
            }
            prefix = top;
        }
        if (prefix == null) {
            throw corrupt(source, "it is an empty zip archive");
        }
        if (entries.containsKey(prefix + "constants.pkl")) {
            throw new TensorFileException(source.file(), source.file() + " is a TorchScript archive "
                    + "(torch.jit.save), not a checkpoint: save the model's weights with "
                    + "torch.save(model.state_dict(), path)");
        }
        ZipArchive.Entry pickle = entries.get(prefix + "data.pkl");
        if (pickle == null) {
            throw corrupt(source, "it has no entry '" + prefix + "data.pkl' (entries: " + shortList(entries.keySet())
                    + ")");
        }
        ZipArchive.Entry version = entries.getOrDefault(prefix + "version", entries.get(prefix + ".data/version"));
        if (version == null) {
            throw corrupt(source, "it has no entry '" + prefix + "version'");
        }
        String versionText = new String(zip.read(version, 64), StandardCharsets.US_ASCII).strip();
        if (!versionText.matches("[1-9][0-9]{0,8}")) {
            throw corrupt(source, "its entry '" + version.name() + "' holds '" + printable(versionText)
                    + "' but a format version number was expected");
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipArchive.Entry byteorder = entries.get(prefix + "byteorder");
        if (byteorder != null) {
            String text = new String(zip.read(byteorder, 64), StandardCharsets.US_ASCII);
            if (text.equals("big")) {
                order = ByteOrder.BIG_ENDIAN;
            } else if (!text.equals("little")) {
                throw corrupt(source, "its entry '" + byteorder.name() + "' holds '" + printable(text)
                        + "' but 'little' or 'big' was expected");
            }
        }
        byte[] data = zip.read(pickle, MAX_PICKLE_BYTES);
        String dataPrefix = prefix + "data/";
        SafeUnpickler.Result result = unpickle(ByteSource.of(source.file(), data), pickle.name(), 0, data.length,
                pid -> storage(source, pid, false, storages, key -> {
                    ZipArchive.Entry entry = entries.get(dataPrefix + key);
                    if (entry == null) {
                        throw corrupt(source, "the pickle names storage '" + key + "' but there is no entry '"
                                + dataPrefix + key + "'");
                    }
                    return entry;
                }));
        if (result.end() != data.length) {
            throw corrupt(source, "its pickle '" + pickle.name() + "' has " + (data.length - result.end())
                    + " bytes after its end (STOP)");
        }
        return new Parsed(result.value(), zip, order);
    }

    private static Parsed readLegacy(ByteSource source, Map<String, Storage> storages) throws IOException {
        long size = source.size();
        SafeUnpickler.PersistentLoader none = pid -> {
            throw corrupt(source, "a header pickle names a storage");
        };
        SafeUnpickler.Result magic = unpickle(source, "the magic-number pickle", 0, size, none);
        if (!LEGACY_MAGIC.equals(magic.value())) {
            throw corrupt(source, "its first pickle is " + SafeUnpickler.describe(magic.value()) + ", not the magic "
                    + "number 0x" + LEGACY_MAGIC.toString(16) + " of a legacy torch.save file");
        }
        SafeUnpickler.Result protocol = unpickle(source, "the protocol-version pickle", magic.end(), size, none);
        if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol.value())) {
            throw corrupt(source, "its protocol version is " + SafeUnpickler.describe(protocol.value()) + " but "
                    + LEGACY_PROTOCOL + " was expected");
        }
        SafeUnpickler.Result sysInfo = unpickle(source, "the system-info pickle", protocol.end(), size, none);
        if (!(sysInfo.value() instanceof PyDict)) {
            throw corrupt(source, "its system-info pickle is a " + SafeUnpickler.typeName(sysInfo.value())
                    + ", not a dict");
        }
        SafeUnpickler.Result data = unpickle(source, "the data pickle", sysInfo.end(), size,
                pid -> storage(source, pid, true, storages, key -> null));
        SafeUnpickler.Result keys = unpickle(source, "the storage-keys pickle", data.end(), size, none);
        if (!(keys.value() instanceof PyList list)) {
            throw corrupt(source, "its storage-keys pickle is a " + SafeUnpickler.typeName(keys.value())
                    + ", not a list");
        }
        Set<String> seen = new LinkedHashSet<>();
        long position = keys.end();
        for (Object key : list.items) {
            Storage storage = key instanceof String k ? storages.get(k) : null;
            if (storage == null || !seen.add((String) key)) {
                throw corrupt(source, "its storage-keys list holds " + SafeUnpickler.describe(key) + ", which "
                        + (storage == null ? "the data pickle does not name" : "appears twice"));
            }
            ByteBuffer count = ByteBuffer.wrap(source.read(position, 8, "the element count of storage '"
                    + storage.key + "'")).order(ByteOrder.LITTLE_ENDIAN);
            long numel = count.getLong();
            if (numel != storage.numel) {
                throw corrupt(source, "storage '" + storage.key + "' holds " + numel + " elements at byte " + position
                        + " but the data pickle declares " + storage.numel);
            }
            position += 8;
            long bytes = storage.numel * storage.dtype.size(); // checked not to overflow when the storage was named
            if (bytes > size - position) {
                throw corrupt(source, "storage '" + storage.key + "' (" + bytes + " bytes of " + storage.dtype.torchName()
                        + " from byte " + position + ") runs past the end of the file (" + size + " bytes)");
            }
            storage.legacyOffset = position;
            position += bytes;
        }
        if (seen.size() != storages.size()) {
            Set<String> missing = new LinkedHashSet<>(storages.keySet());
            missing.removeAll(seen);
            throw corrupt(source, "the storages " + shortList(missing) + " are named by the data pickle but not in "
                    + "its storage-keys list");
        }
        if (position != size) {
            throw corrupt(source, "it has " + (size - position) + " bytes after its last storage (at byte "
                    + position + ")");
        }
        return new Parsed(data.value(), null, ByteOrder.LITTLE_ENDIAN);
    }

    private interface EntryLookup {
        ZipArchive.Entry find(String key) throws IOException;
    }

    /**
     * The storage of a persistent id: zip ('storage', storage_type, key, location, numel), legacy the same and
     * view_metadata (None). The same key twice must agree; its bytes must be in the file.
     */
    private static Storage storage(ByteSource source, Object pid, boolean legacy, Map<String, Storage> storages,
                                   EntryLookup entries) throws IOException {
        int length = legacy ? 6 : 5;
        String expected = "('storage', storage_type, key, location, numel" + (legacy ? ", view_metadata)" : ")");
        if (!(pid instanceof Tuple t) || t.items.isEmpty()) {
            throw corrupt(source, "a persistent id is " + SafeUnpickler.describe(pid) + " but " + expected
                    + " was expected");
        }
        String typename = ascii(t.items.get(0));
        if ("module".equals(typename)) {
            throw moduleRefused(source, "a persistent id of type 'module'");
        }
        if (!"storage".equals(typename) || t.items.size() != length) {
            throw corrupt(source, "a persistent id is " + describeTuple(t) + " but " + expected + " was expected");
        }
        List<Object> p = t.items;
        TorchDtype dtype = p.get(1) instanceof Global g && g.kind() == SafeUnpickler.Kind.STORAGE_TYPE
                ? TorchDtype.ofStorageType(g.name().substring("torch.".length())) : null;
        String key = ascii(p.get(2));
        String location = ascii(p.get(3));
        if (dtype == null || key == null || location == null || !(p.get(4) instanceof Long numel) || numel < 0
                || legacy && p.get(5) != SafeUnpickler.NONE) {
            throw corrupt(source, "a persistent id is " + describeTuple(t) + " but " + expected + " was expected"
                    + (legacy ? " (view_metadata None: storage views are not supported)" : ""));
        }
        Storage known = storages.get(key);
        if (known != null) {
            if (known.dtype != dtype || known.numel != numel) {
                throw corrupt(source, "storage '" + key + "' is named as " + numel + " x " + dtype.torchName()
                        + " and as " + known.numel + " x " + known.dtype.torchName());
            }
            return known;
        }
        long bytes = numel > Long.MAX_VALUE / dtype.size() ? -1 : numel * dtype.size();
        if (bytes < 0 || bytes > source.size()) {
            throw corrupt(source, "storage '" + key + "' declares " + numel + " elements of " + dtype.torchName()
                    + ", more bytes than the file holds (" + source.size() + ")");
        }
        ZipArchive.Entry entry = entries.find(key);
        if (entry != null && entry.size() != bytes) {
            throw corrupt(source, "storage '" + key + "' declares " + numel + " elements of " + dtype.torchName()
                    + " (" + bytes + " bytes) but its entry '" + entry.name() + "' holds " + entry.size() + " bytes");
        }
        Storage storage = new Storage(key, dtype, numel, entry);
        storages.put(key, storage);
        return storage;
    }

    private static SafeUnpickler.Result unpickle(ByteSource source, String what, long start, long limit,
                                                 SafeUnpickler.PersistentLoader loader) throws IOException {
        try {
            return SafeUnpickler.load(source, what, start, limit, loader);
        } catch (SafeUnpickler.RefusedGlobal e) {
            boolean module = e.global().startsWith("torch.nn.modules.")
                    || mentions(source, start, limit, "_parameters") && mentions(source, start, limit, "_modules");
            if (module) {
                throw moduleRefused(source, "the global '" + e.global() + "'");
            }
            throw new TensorFileException(source.file(), e.getMessage());
        }
    }

    /** Whether the first MiB of the pickle holds {@code text}: a hint for the message, never a decision to load. */
    private static boolean mentions(ByteSource source, long start, long limit, String text) throws IOException {
        byte[] window = source.read(start, Math.min(limit - start, 1 << 20), "the pickle");
        byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + needle.length <= window.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (window[i + j] != needle[j]) continue outer;
            }
            return true;
        }
        return false;
    }

    private static TensorFileException moduleRefused(ByteSource source, String what) {
        return new TensorFileException(source.file(), source.file() + " holds a whole pickled torch.nn.Module "
                + "(torch.save(model)), which cannot be read without running its Python code (" + what + " is not "
                + "allowed): save model.state_dict() instead");
    }

    /** The state_dict to read: by key, or the only one, or the only one with an expected name. */
    private static Map.Entry<String, PyDict> choose(ByteSource source, Object root, String key,
                                                    Predicate<String> expectedName) throws TensorFileException {
        Map<String, PyDict> candidates = candidates(root);
        String found = candidates.isEmpty() ? "" : " (state_dicts found: " + paths(candidates.keySet()) + ")";
        if (key != null) {
            PyDict chosen = candidates.get(key);
            if (chosen == null) {
                throw new TensorFileException(source.file(), source.file() + " has no state_dict (a dict of tensors) "
                        + "under the checkpoint key '" + key + "'" + (candidates.isEmpty() ? ": " + topLevel(root)
                        : found));
            }
            return Map.entry(key, chosen);
        }
        if (candidates.isEmpty()) {
            throw new TensorFileException(source.file(), source.file() + " holds no state_dict (a dict of tensors "
                    + "under string keys): " + topLevel(root));
        }
        if (candidates.size() == 1) {
            return candidates.entrySet().iterator().next();
        }
        List<Map.Entry<String, PyDict>> expected = candidates.entrySet().stream()
                .filter(c -> c.getValue().items.keySet().stream().anyMatch(k -> expectedName.test((String) k)))
                .toList();
        if (expected.size() == 1) {
            return expected.get(0);
        }
        throw new TensorFileException(source.file(), source.file() + " holds " + candidates.size() + " state_dicts ("
                + paths(candidates.keySet()) + ")" + (expected.isEmpty() ? ", none with the expected parameter names"
                : ", " + expected.size() + " with the expected parameter names") + ": name one with the checkpoint "
                + "key");
    }

    /** The dicts of tensors under string keys, by dotted path ("" for the top level), breadth first. */
    private static Map<String, PyDict> candidates(Object root) {
        Map<String, PyDict> found = new LinkedHashMap<>();
        Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Object[]> queue = new ArrayDeque<>();
        queue.add(new Object[] {"", root, 0});
        while (!queue.isEmpty()) {
            Object[] item = queue.poll();
            if (!(item[1] instanceof PyDict dict) || !visited.add(dict)) continue;
            String path = (String) item[0];
            int depth = (Integer) item[2];
            boolean tensors = !dict.items.isEmpty() && dict.items.entrySet().stream()
                    .allMatch(e -> e.getKey() instanceof String && e.getValue() instanceof TensorRef);
            if (tensors) {
                found.put(path, dict);
            } else if (depth < MAX_SEARCH_DEPTH) {
                dict.items.forEach((k, v) -> {
                    if (k instanceof String s && v instanceof PyDict) {
                        queue.add(new Object[] {path.isEmpty() ? s : path + "." + s, v, depth + 1});
                    }
                });
            }
        }
        return found;
    }

    private static Map<String, INDArray> materialize(ByteSource source, Parsed parsed, String path, PyDict stateDict,
                                                     ZipArchive.Budget budget) throws IOException {
        String where = path.isEmpty() ? "" : " (state_dict '" + path + "')";
        List<String> unsupported = new ArrayList<>();
        for (Map.Entry<Object, Object> e : stateDict.items.entrySet()) {
            Storage storage = storageOf(source, (String) e.getKey(), (TensorRef) e.getValue());
            if (storage.dtype.readAs() == null) {
                unsupported.add("'" + e.getKey() + "' (" + storage.dtype.torchName() + ")");
            }
        }
        if (!unsupported.isEmpty()) {
            throw new TensorFileException(source.file(), source.file() + where + ": unsupported dtype of tensor "
                    + String.join(", ", unsupported) + " (this library reads float32, float64, float16, bfloat16, "
                    + "int64, int32 and bool)");
        }
        Map<Storage, byte[]> bytes = new HashMap<>();
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        List<String> converted = new ArrayList<>();
        long total = 0;
        for (Map.Entry<Object, Object> e : stateDict.items.entrySet()) {
            String name = (String) e.getKey();
            TensorRef ref = (TensorRef) e.getValue();
            Storage storage = storageOf(source, name, ref);
            long count = checkView(source, where, name, ref, storage);
            DataType type = storage.dtype.readAs();
            long outBytes = count * TensorBytes.elementSize(type); // count < storage numel or a stride-0 view
            if (count > TensorBytes.MAX_BYTES / TensorBytes.elementSize(type)) {
                throw new TensorFileException(source.file(), source.file() + where + ": tensor '" + name + "' has "
                        + count + " elements, more than one Java array holds as " + type);
            }
            if (outBytes > ReadLimits.maxTensorBytes()) {
                throw new TensorFileException(source.file(), source.file() + where + ": tensor '" + name + "' needs "
                        + outBytes + " bytes as " + type + ", more than the " + ReadLimits.maxTensorBytes()
                        + " accepted (" + ReadLimits.hint("maxTensorBytes") + ")");
            }
            total = ReadLimits.addTotal(source.file(), total, outBytes);
            budget.charge(outBytes, "tensor '" + name + "'" + where);
            byte[] data = bytes.get(storage);
            if (data == null) {
                data = storageBytes(source, parsed, storage);
                bytes.put(storage, data);
            }
            tensors.put(name, TensorBytes.toArray(gather(data, parsed.order(), storage.dtype, ref, (int) count),
                    type, ref.shape(), 'c'));
            if (storage.dtype.converted()) {
                converted.add(name + " (" + storage.dtype.torchName() + ")");
            }
        }
        if (!converted.isEmpty()) {
            LOG.info("{}{}: {} float16/bfloat16 tensors read as float32, exactly (every half value is a float32): {}",
                    source.file(), where, converted.size(), shortList(converted));
        }
        return Collections.unmodifiableMap(tensors);
    }

    private static Storage storageOf(ByteSource source, String name, TensorRef ref) throws TensorFileException {
        if (ref.storage() instanceof Storage storage) {
            return storage;
        }
        throw corrupt(source, "tensor '" + name + "' is rebuilt from a " + SafeUnpickler.typeName(ref.storage())
                + ", not a storage");
    }

    /**
     * The tensor's element count, after checking that every element it views lies in its storage: offset +
     * sum((size_i - 1) * stride_i) < numel, overflow-checked (strides are non-negative).
     */
    private static long checkView(ByteSource source, String where, String name, TensorRef ref, Storage storage)
            throws TensorFileException {
        long count = TensorBytes.elementCount(ref.shape());
        String view = "tensor '" + name + "'" + where + " (size " + java.util.Arrays.toString(ref.shape())
                + ", stride " + java.util.Arrays.toString(ref.stride()) + ", storage offset " + ref.offset() + ")";
        if (count < 0) {
            throw corrupt(source, view + " has more elements than a 64-bit integer counts");
        }
        long last = ref.offset();
        try {
            if (count > 0) {
                for (int i = 0; i < ref.shape().length; i++) {
                    last = Math.addExact(last, Math.multiplyExact(ref.shape()[i] - 1, ref.stride()[i]));
                }
            }
        } catch (ArithmeticException overflow) {
            last = Long.MAX_VALUE;
        }
        if (count > 0 ? last >= storage.numel : ref.offset() > storage.numel) {
            throw corrupt(source, view + " reaches element " + (count > 0 ? last : ref.offset()) + " of storage '"
                    + storage.key + "', which holds " + storage.numel + " elements of " + storage.dtype.torchName());
        }
        return count;
    }

    private static byte[] storageBytes(ByteSource source, Parsed parsed, Storage storage) throws IOException {
        if (storage.entry != null) {
            return parsed.zip().read(storage.entry, storage.entry.size());
        }
        return source.read(storage.legacyOffset, storage.numel * storage.dtype.size(), "storage '" + storage.key
                + "'");
    }

    /** The tensor's elements in C order as little-endian bytes of its reader type (half types widened). */
    private static byte[] gather(byte[] storage, ByteOrder order, TorchDtype dtype, TensorRef ref, int count) {
        ByteBuffer in = ByteBuffer.wrap(storage).order(order);
        ByteBuffer out = ByteBuffer.allocate(count * TensorBytes.elementSize(dtype.readAs()))
                .order(ByteOrder.LITTLE_ENDIAN);
        long[] shape = ref.shape();
        long[] stride = ref.stride();
        long[] index = new long[shape.length];
        long element = ref.offset();
        int size = dtype.size();
        for (int n = 0; n < count; n++) {
            int at = (int) (element * size); // checkView: element < numel, and numel * size bytes are in an array
            switch (dtype) {
                case FLOAT32, INT32 -> out.putInt(in.getInt(at));
                case FLOAT64, INT64 -> out.putLong(in.getLong(at));
                case FLOAT16 -> out.putInt(TensorBytes.halfToFloatBits(in.getShort(at)));
                case BFLOAT16 -> out.putInt(TensorBytes.bfloat16ToFloatBits(in.getShort(at)));
                case BOOL -> out.put(in.get(at) != 0 ? (byte) 1 : 0);
                default -> throw new IllegalStateException("no reader for " + dtype);
            }
            for (int d = shape.length - 1; d >= 0; d--) {
                element += stride[d];
                if (++index[d] < shape[d]) break;
                element -= stride[d] * shape[d];
                index[d] = 0;
            }
        }
        return out.array();
    }

    private static String ascii(Object value) {
        if (value instanceof String s) return s;
        if (value instanceof Bytes b) {
            for (byte c : b.value()) {
                if (c < 0) return null;
            }
            return new String(b.value(), StandardCharsets.US_ASCII);
        }
        return null;
    }

    private static String describeTuple(Tuple t) {
        return t.items.stream().limit(8).map(v -> v instanceof Global g ? g.name() : SafeUnpickler.describe(v))
                .collect(Collectors.joining(", ", "(", t.items.size() > 8 ? ", ...)" : ")"));
    }

    private static String topLevel(Object root) {
        if (root instanceof PyDict dict) {
            return "its top level is a dict of " + dict.items.entrySet().stream().limit(12)
                    .map(e -> SafeUnpickler.describe(e.getKey()) + ": " + SafeUnpickler.typeName(e.getValue()))
                    .collect(Collectors.joining(", ", "{", dict.items.size() > 12 ? ", ...}" : "}"));
        }
        return "it holds a " + SafeUnpickler.typeName(root);
    }

    private static String paths(Set<String> paths) {
        return paths.stream().limit(12).map(p -> p.isEmpty() ? "the top level" : "'" + p + "'")
                .collect(Collectors.joining(", ")) + (paths.size() > 12 ? ", ..." : "");
    }

    private static String shortList(java.util.Collection<String> items) {
        return items.stream().limit(10).collect(Collectors.joining(", ", "[", items.size() > 10 ? ", ...]" : "]"));
    }

    private static String printable(String text) {
        String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return shown.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private static TensorFileException notCheckpoint(ByteSource source) throws IOException {
        long size = source.size();
        byte[] start = source.read(0, Math.min(size, 8), "the start");
        StringBuilder hex = new StringBuilder();
        for (byte b : start) hex.append(String.format("%02x", b));
        boolean tar = size >= 262 && new String(source.read(257, 5, "the tar magic"), StandardCharsets.US_ASCII)
                .equals("ustar");
        return new TensorFileException(source.file(), source.file() + " is not a PyTorch checkpoint: "
                + (tar ? "it is a tar archive (torch.save before PyTorch 0.4), which is not supported; load and "
                + "save it again with a current PyTorch"
                : "neither a zip archive (torch.save since PyTorch 1.6) nor a legacy torch.save file (a pickle of "
                + "the magic number); it starts with " + (size == 0 ? "nothing (it is empty)" : "0x" + hex)));
    }

    private static TensorFileException corrupt(ByteSource source, String what) {
        return new TensorFileException(source.file(), source.file() + " is not a valid PyTorch checkpoint: " + what);
    }
}
