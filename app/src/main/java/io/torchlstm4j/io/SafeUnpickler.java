package io.torchlstm4j.io;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The subset of Python's pickle machine that {@code torch.save} uses for state_dicts and training checkpoints,
 * held to the allowlist of {@code torch.load(..., weights_only=True)}: a GLOBAL may only name a container, a tensor
 * rebuild function, a storage type or a dtype ({@link #ALLOWED}); any other name is refused with that name before
 * anything else happens, and nothing is ever looked up or instantiated by it. The values are a closed set of Java
 * types chosen here: {@link #NONE}, Boolean, Long, BigInteger, Double, String, {@link Bytes}, {@link Tuple},
 * {@link PyList}, {@link PyDict}, {@link PySet}, {@link Global}, {@link TensorRef} and whatever the caller's
 * {@link PersistentLoader} returns for a storage.
 *
 * <p>Bounded: the MARK depth, the stack, the memo and the number of objects made; every length is checked against
 * the bytes left before anything is allocated. The machine is a loop (no recursion), containers compare by identity
 * and dict keys are scalars, so no input can make equals/hashCode recurse. Protocols 2 to 5; opcodes that
 * {@code torch.save} does not emit for such data (POP, DUP, INST, OBJ, EXT, ...) are refused by name.
 * Not safe for concurrent use; one instance reads one pickle.
 */
final class SafeUnpickler {

    /** Python's None. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    static final int MAX_MARK_DEPTH = 256;
    static final int MAX_STACK = 1_000_000;
    static final int MAX_MEMO = 1_000_000;
    static final long MAX_OBJECTS = 4_000_000;
    /** ND4J's largest rank. */
    static final int MAX_RANK = 32;
    private static final int MAX_LINE = 512;

    /** What an allowed global does. */
    enum Kind { ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, SIZE, STORAGE_TYPE, DTYPE }

    /** An allowed global, by its full name (module.name). */
    record Global(String name, Kind kind) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The globals a checkpoint may name: the containers, rebuild functions, storage types and dtypes. */
    static final Map<String, Kind> ALLOWED = allowed();

    /** Python bytes. */
    record Bytes(byte[] value) {
    }

    /** A Python tuple; compares by identity. */
    static final class Tuple {
        final List<Object> items;

        Tuple(List<Object> items) {
            this.items = Collections.unmodifiableList(items);
        }
    }

    /** A Python list; compares by identity. */
    static final class PyList {
        final List<Object> items = new ArrayList<>();
    }

    /** A Python dict or OrderedDict (keys are scalars); compares by identity. */
    static final class PyDict {
        final Map<Object, Object> items = new LinkedHashMap<>();
    }

    /** A Python set of scalars; compares by identity. */
    static final class PySet {
        final Set<Object> items = new LinkedHashSet<>();
    }

    /** A tensor as {@code torch._utils._rebuild_tensor_v2} rebuilds it: a view of a storage. */
    record TensorRef(Object storage, long offset, long[] shape, long[] stride) {
    }

    /** Turns a persistent id (the tuple of BINPERSID) into a storage, or refuses it. */
    interface PersistentLoader {
        Object load(Object pid) throws IOException;
    }

    /** A GLOBAL outside {@link #ALLOWED}; the caller turns it into a {@link TensorFileException}. */
    static final class RefusedGlobal extends IOException {
        private final String global;

        RefusedGlobal(String global, String message) {
            super(message);
            this.global = global;
        }

        /** The refused global's full name, module.name. */
        String global() {
            return global;
        }
    }

    /** What one pickle gave, and the position just after its STOP. */
    record Result(Object value, long end) {
    }

    private final ByteSource source;
    private final String what;
    private final PersistentLoader loader;
    private final long limit;
    private long position;
    private byte[] buffer = new byte[0];
    private long bufferStart;

    private List<Object> stack = new ArrayList<>();
    private final List<List<Object>> metastack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long stackSize;
    private long objects;
    private int protocol = -1;

    private SafeUnpickler(ByteSource source, String what, long start, long limit, PersistentLoader loader) {
        this.source = source;
        this.what = what;
        this.position = start;
        this.limit = limit;
        this.loader = loader;
    }

    /**
     * Runs the pickle that starts at {@code start} and ends (STOP) before {@code limit}.
     *
     * @param what names the pickle in messages, e.g. "data.pkl"
     */
    static Result load(ByteSource source, String what, long start, long limit, PersistentLoader loader)
            throws IOException {
        return new SafeUnpickler(source, what, start, limit, loader).run();
    }

    private Result run() throws IOException {
        while (true) {
            long at = position;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    protocol = u8();
                    if (protocol < 2 || protocol > 5) {
                        throw refuse(at, "pickle protocol " + protocol + " (torch.save writes 2; 2 to 5 are read)");
                    }
                }
                case 0x95 -> { // FRAME: a length hint; the data that follows is read as usual
                    long length = le(8).getLong();
                    if (length < 0 || length > limit - position) {
                        throw refuse(at, "a FRAME of " + Long.toUnsignedString(length) + " bytes, past the end of "
                                + "the pickle (" + (limit - position) + " bytes left)");
                    }
                }
                case '.' -> { // STOP
                    if (!metastack.isEmpty() || stack.size() != 1) {
                        throw refuse(at, "STOP with " + (metastack.isEmpty() ? stack.size() + " values on the stack"
                                : "an unclosed MARK") + " (exactly one value expected)");
                    }
                    return new Result(stack.get(0), position);
                }
                case '(' -> { // MARK
                    if (metastack.size() >= MAX_MARK_DEPTH) {
                        throw refuse(at, "MARKs nested more than " + MAX_MARK_DEPTH + " deep");
                    }
                    metastack.add(stack);
                    stack = new ArrayList<>();
                }
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) le(4).getInt());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) Short.toUnsignedInt(le(2).getShort()));
                case 0x8a -> push(long1(u8()));
                case 'G' -> push(ByteBuffer.wrap(bytes(8, at)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case 'X' -> push(utf8(bytes(Integer.toUnsignedLong(le(4).getInt()), at), at));
                case 0x8c -> push(utf8(bytes(u8(), at), at));
                case 0x8d -> push(utf8(bytes(le(8).getLong(), at), at));
                case 'U' -> push(ascii(bytes(u8(), at), at));
                case 'C' -> push(new Bytes(bytes(u8(), at)));
                case 'B' -> push(new Bytes(bytes(Integer.toUnsignedLong(le(4).getInt()), at)));
                case ')' -> push(made(new Tuple(List.of())));
                case 't' -> push(made(new Tuple(popMark(at))));
                case 0x85, 0x86, 0x87 -> {
                    int n = op - 0x84;
                    List<Object> items = new ArrayList<>(pop(n, at, "TUPLE" + n));
                    push(made(new Tuple(items)));
                }
                case ']' -> push(made(new PyList()));
                case '}' -> push(made(new PyDict()));
                case 0x8f -> push(made(new PySet()));
                case 'a' -> { // APPEND
                    Object item = pop(1, at, "APPEND").get(0);
                    list(top(at, "APPEND"), at, "APPEND").items.add(item);
                    count(1);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(at);
                    list(top(at, "APPENDS"), at, "APPENDS").items.addAll(items);
                    count(items.size());
                }
                case 's' -> { // SETITEM
                    List<Object> kv = pop(2, at, "SETITEM");
                    setItems(top(at, "SETITEM"), kv, at);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(at);
                    if (items.size() % 2 != 0) {
                        throw refuse(at, "SETITEMS with an odd number (" + items.size() + ") of keys and values");
                    }
                    setItems(top(at, "SETITEMS"), items, at);
                }
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark(at);
                    if (!(top(at, "ADDITEMS") instanceof PySet set)) {
                        throw refuse(at, "ADDITEMS on a " + typeName(top(at, "ADDITEMS")) + " (a set expected)");
                    }
                    for (Object item : items) set.items.add(key(item, at));
                    count(items.size());
                }
                case 'q' -> put(u8(), at);
                case 'r' -> put(Integer.toUnsignedLong(le(4).getInt()), at);
                case 0x94 -> put(memo.size(), at);
                case 'h' -> get(u8(), at);
                case 'j' -> get(Integer.toUnsignedLong(le(4).getInt()), at);
                case 'c' -> { // GLOBAL
                    String module = line(at);
                    String name = line(at);
                    push(global(module, name, at));
                }
                case 0x93 -> { // STACK_GLOBAL
                    List<Object> mn = pop(2, at, "STACK_GLOBAL");
                    if (!(mn.get(0) instanceof String module) || !(mn.get(1) instanceof String name)) {
                        throw refuse(at, "STACK_GLOBAL with a " + typeName(mn.get(0)) + " and a "
                                + typeName(mn.get(1)) + " (two strings expected)");
                    }
                    push(global(module, name, at));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(1, at, "REDUCE").get(0);
                    Object function = pop(1, at, "REDUCE").get(0);
                    push(reduce(function, args, at));
                }
                case 'b' -> { // BUILD: OrderedDict attributes such as _metadata, which a state_dict does not need
                    Object state = pop(1, at, "BUILD").get(0);
                    Object target = top(at, "BUILD");
                    if (!(target instanceof PyDict) || !(state instanceof PyDict)) {
                        throw refuse(at, "BUILD of a " + typeName(target) + " from a " + typeName(state)
                                + " (only an OrderedDict's attributes, from a dict, are accepted)");
                    }
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop(1, at, "BINPERSID").get(0);
                    push(made(loader.load(pid)));
                }
                default -> throw refuse(at, "the opcode " + opcodeName(op) + ", which does not rebuild tensors or "
                        + "containers (torch.load(..., weights_only=True) refuses it too)");
            }
        }
    }

    private Object global(String module, String name, long at) throws IOException {
        String full = module + "." + name;
        Kind kind = ALLOWED.get(full);
        if (kind == null) {
            throw new RefusedGlobal(full, refuse(at, "the global '" + full + "', which is not allowed: a checkpoint "
                    + "may only name the globals that rebuild tensors and containers, as with torch.load(..., "
                    + "weights_only=True); nothing in the file was run").getMessage());
        }
        return made(new Global(full, kind));
    }

    private Object reduce(Object function, Object args, long at) throws IOException {
        if (!(function instanceof Global global) || global.kind() == Kind.STORAGE_TYPE || global.kind() == Kind.DTYPE) {
            throw refuse(at, "REDUCE calling a " + typeName(function) + " (only the allowed constructors and "
                    + "rebuild functions may be called)");
        }
        if (!(args instanceof Tuple tuple)) {
            throw refuse(at, "REDUCE of " + global + " with a " + typeName(args) + " as arguments (a tuple expected)");
        }
        List<Object> a = tuple.items;
        switch (global.kind()) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) {
                    throw refuse(at, global + " called with " + a.size() + " arguments (torch.save writes none)");
                }
                return made(new PyDict());
            }
            case SIZE -> {
                if (a.size() != 1 || !(a.get(0) instanceof Tuple dims)) {
                    throw refuse(at, global + " called with other than one tuple");
                }
                return dims;
            }
            case REBUILD_PARAMETER -> {
                // (data, requires_grad, backward_hooks): a Parameter is its tensor here
                if (a.size() != 3 || !(a.get(0) instanceof TensorRef tensor)) {
                    throw refuse(at, global + " called with " + describe(a) + " but (tensor, requires_grad, "
                            + "backward_hooks) was expected");
                }
                return tensor;
            }
            case REBUILD_TENSOR_V2, REBUILD_TENSOR -> {
                // v2: (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]); v1: the
                // first four
                boolean v2 = global.kind() == Kind.REBUILD_TENSOR_V2;
                if (v2 ? a.size() != 6 && a.size() != 7 : a.size() != 4) {
                    throw refuse(at, global + " called with " + a.size() + " arguments but "
                            + (v2 ? "(storage, storage_offset, size, stride, requires_grad, backward_hooks"
                            + "[, metadata])" : "(storage, storage_offset, size, stride)") + " was expected");
                }
                long offset = nonNegative(a.get(1), "storage_offset", global, at);
                long[] shape = dims(a.get(2), "size", global, at);
                long[] stride = dims(a.get(3), "stride", global, at);
                if (shape.length != stride.length) {
                    throw refuse(at, global + " called with size " + Arrays.toString(shape) + " and stride "
                            + Arrays.toString(stride) + " of different lengths");
                }
                return made(new TensorRef(a.get(0), offset, shape, stride));
            }
            default -> throw new IllegalStateException("unhandled " + global.kind());
        }
    }

    private long[] dims(Object value, String name, Global global, long at) throws TensorFileException {
        if (!(value instanceof Tuple t) || t.items.size() > MAX_RANK) {
            throw refuse(at, global + " called with " + name + " " + describe(value) + " but a tuple of at most "
                    + MAX_RANK + " integers was expected");
        }
        long[] dims = new long[t.items.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = nonNegative(t.items.get(i), name + "[" + i + "]", global, at);
        }
        return dims;
    }

    private long nonNegative(Object value, String name, Global global, long at) throws TensorFileException {
        if (value instanceof Long v && v >= 0) {
            return v;
        }
        throw refuse(at, global + " called with " + name + " = " + describe(value)
                + " but a non-negative 64-bit integer was expected");
    }

    private void setItems(Object target, List<Object> keysAndValues, long at) throws TensorFileException {
        if (!(target instanceof PyDict dict)) {
            throw refuse(at, "SETITEM(S) on a " + typeName(target) + " (a dict expected)");
        }
        for (int i = 0; i < keysAndValues.size(); i += 2) {
            dict.items.put(key(keysAndValues.get(i), at), keysAndValues.get(i + 1));
        }
        count(keysAndValues.size() / 2);
    }

    /** Dict keys and set items are scalars, so that hashing them never walks a structure. */
    private Object key(Object key, long at) throws TensorFileException {
        if (key instanceof String || key instanceof Long || key instanceof BigInteger || key instanceof Boolean
                || key instanceof Double || key == NONE) {
            return key;
        }
        throw refuse(at, "a dict key or set item that is a " + typeName(key) + " (a string or number expected)");
    }

    private PyList list(Object target, long at, String op) throws TensorFileException {
        if (target instanceof PyList list) {
            return list;
        }
        throw refuse(at, op + " on a " + typeName(target) + " (a list expected)");
    }

    private void put(long index, long at) throws TensorFileException {
        if (!memo.containsKey(index) && memo.size() >= MAX_MEMO) {
            throw refuse(at, "more than " + MAX_MEMO + " memo entries");
        }
        memo.put(index, top(at, "PUT"));
    }

    private void get(long index, long at) throws TensorFileException {
        Object value = memo.get(index);
        if (value == null) {
            throw refuse(at, "GET of memo entry " + index + ", which was never PUT");
        }
        push(value);
    }

    private Object top(long at, String op) throws TensorFileException {
        if (stack.isEmpty()) {
            throw refuse(at, op + " on an empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> pop(int n, long at, String op) throws TensorFileException {
        if (stack.size() < n) {
            throw refuse(at, op + " needs " + n + " values but the stack holds " + stack.size()
                    + (metastack.isEmpty() ? "" : " since the last MARK"));
        }
        List<Object> tail = stack.subList(stack.size() - n, stack.size());
        List<Object> values = new ArrayList<>(tail);
        tail.clear();
        stackSize -= n;
        return values;
    }

    private List<Object> popMark(long at) throws TensorFileException {
        if (metastack.isEmpty()) {
            throw refuse(at, "an opcode that closes a MARK, without a MARK");
        }
        List<Object> items = stack;
        stack = metastack.remove(metastack.size() - 1);
        stackSize -= items.size();
        return items;
    }

    private void push(Object value) throws TensorFileException {
        if (++stackSize > MAX_STACK) {
            throw refuse(position, "more than " + MAX_STACK + " values on the stack");
        }
        stack.add(value);
    }

    /** Counts one object made against the bound, and returns it. */
    private <T> T made(T value) throws TensorFileException {
        count(1);
        return value;
    }

    /** Counts {@code n} objects made or items added to containers against the bound. */
    private void count(long n) throws TensorFileException {
        objects += n;
        if (objects > MAX_OBJECTS) {
            throw refuse(position, "more than " + MAX_OBJECTS + " objects (a state_dict needs a few per tensor)");
        }
    }

    private Object long1(int n) throws TensorFileException {
        long at = position;
        byte[] b = bytes(n, at);
        if (n == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[n];
        for (int i = 0; i < n; i++) bigEndian[i] = b[n - 1 - i];
        BigInteger value = new BigInteger(bigEndian);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private String line(long at) throws TensorFileException {
        StringBuilder s = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return s.toString();
            }
            if (c < 0x20 || c > 0x7e || s.length() >= MAX_LINE) {
                throw refuse(at, "a GLOBAL whose names are not printable ASCII lines of at most " + MAX_LINE
                        + " characters");
            }
            s.append((char) c);
        }
    }

    private int u8() throws TensorFileException {
        return bytes(1, position)[0] & 0xff;
    }

    private ByteBuffer le(int n) throws TensorFileException {
        return ByteBuffer.wrap(bytes(n, position)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The next {@code n} bytes; {@code n} is checked against the bytes left before anything is allocated. */
    private byte[] bytes(long n, long at) throws TensorFileException {
        if (n < 0 || n > limit - position) {
            throw refuse(at, "a length of " + Long.toUnsignedString(n) + " bytes where " + (limit - position)
                    + " are left" + (n == 1 || limit == position ? " (the pickle is truncated)" : ""));
        }
        if (n > TensorBytes.MAX_BYTES) {
            throw refuse(at, "a length of " + n + " bytes, more than one Java array holds");
        }
        int length = (int) n;
        byte[] out = new byte[length];
        int copied = 0;
        while (copied < length) {
            if (position < bufferStart || position >= bufferStart + buffer.length) {
                fill();
            }
            int offset = (int) (position - bufferStart);
            int chunk = Math.min(length - copied, buffer.length - offset);
            System.arraycopy(buffer, offset, out, copied, chunk);
            copied += chunk;
            position += chunk;
        }
        return out;
    }

    private void fill() throws TensorFileException {
        long n = Math.min(64 * 1024, limit - position);
        try {
            buffer = source.read(position, n, what);
        } catch (TensorFileException e) {
            throw e;
        } catch (IOException e) {
            throw new TensorFileException(source.file(), source.file() + ": " + what + " cannot be read: " + e);
        }
        bufferStart = position;
    }

    private String utf8(byte[] bytes, long at) throws TensorFileException {
        try {
            return made(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            throw refuse(at, "a string that is not valid UTF-8");
        }
    }

    private String ascii(byte[] bytes, long at) throws TensorFileException {
        for (byte b : bytes) {
            if (b < 0) throw refuse(at, "a byte string that is not ASCII");
        }
        return made(new String(bytes, StandardCharsets.US_ASCII));
    }

    private TensorFileException refuse(long at, String problem) {
        return new TensorFileException(source.file(), source.file() + ": " + what + " (a pickle) has, at byte " + at
                + ", " + problem);
    }

    /** A short, non-recursive description of a value for messages. */
    static String describe(Object value) {
        if (value instanceof String s) {
            return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        }
        if (value instanceof Long || value instanceof Boolean || value instanceof Double || value == NONE
                || value instanceof Global) {
            return String.valueOf(value);
        }
        if (value instanceof Tuple t) {
            return "a tuple of " + t.items.size();
        }
        if (value instanceof List<?> l) {
            return l.size() + " arguments";
        }
        return "a " + typeName(value);
    }

    /** The Python type name of a value. */
    static String typeName(Object value) {
        if (value == NONE) return "None";
        if (value instanceof String) return "str";
        if (value instanceof Long || value instanceof BigInteger) return "int";
        if (value instanceof Double) return "float";
        if (value instanceof Boolean) return "bool";
        if (value instanceof Bytes) return "bytes";
        if (value instanceof Tuple) return "tuple";
        if (value instanceof PyList) return "list";
        if (value instanceof PyDict) return "dict";
        if (value instanceof PySet) return "set";
        if (value instanceof TensorRef) return "tensor";
        if (value instanceof Global g) return g.name();
        return "storage";
    }

    private static String opcodeName(int op) {
        String name = OPCODE_NAMES.get(op);
        return String.format("0x%02x", op) + (name == null ? "" : " (" + name + ")");
    }

    private static final Map<Integer, String> OPCODE_NAMES = opcodeNames();

    private static Map<Integer, String> opcodeNames() {
        Map<Integer, String> names = new TreeMap<>();
        String[][] table = {{"0", "POP"}, {"1", "POP_MARK"}, {"2", "DUP"}, {"F", "FLOAT"}, {"I", "INT"},
                {"L", "LONG"}, {"P", "PERSID"}, {"S", "STRING"}, {"T", "BINSTRING"}, {"V", "UNICODE"},
                {"g", "GET"}, {"d", "DICT"}, {"i", "INST"}, {"l", "LIST"}, {"o", "OBJ"}, {"p", "PUT"}};
        for (String[] row : table) names.put((int) row[0].charAt(0), row[1]);
        names.put(0x81, "NEWOBJ");
        names.put(0x82, "EXT1");
        names.put(0x83, "EXT2");
        names.put(0x84, "EXT4");
        names.put(0x8b, "LONG4");
        names.put(0x8e, "BINBYTES8");
        names.put(0x91, "FROZENSET");
        names.put(0x92, "NEWOBJ_EX");
        names.put(0x96, "BYTEARRAY8");
        names.put(0x97, "NEXT_BUFFER");
        names.put(0x98, "READONLY_BUFFER");
        return names;
    }

    private static Map<String, Kind> allowed() {
        Map<String, Kind> allowed = new LinkedHashMap<>();
        allowed.put("collections.OrderedDict", Kind.ORDERED_DICT);
        allowed.put("torch._utils._rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2);
        allowed.put("torch._utils._rebuild_tensor", Kind.REBUILD_TENSOR);
        allowed.put("torch._utils._rebuild_parameter", Kind.REBUILD_PARAMETER);
        allowed.put("torch.Size", Kind.SIZE);
        for (TorchDtype dtype : TorchDtype.values()) {
            allowed.put("torch." + dtype.storageType(), Kind.STORAGE_TYPE);
            allowed.put("torch." + dtype.torchName(), Kind.DTYPE);
        }
        return Collections.unmodifiableMap(allowed);
    }
}
