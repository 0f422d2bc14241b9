package io.torchlstm4j.verify.cli;

import java.util.List;
import java.util.Map;

/**
 * A minimal JSON writer for the commands' {@code --json} output: maps (in their order), lists, strings, numbers
 * (non-finite ones as null), booleans and null.
 */
final class Json {

    private Json() {
    }

    static String write(Object value) {
        StringBuilder s = new StringBuilder();
        write(value, s);
        return s.toString();
    }

    private static void write(Object value, StringBuilder s) {
        if (value == null) {
            s.append("null");
        } else if (value instanceof String text) {
            string(text, s);
        } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
            s.append(value);
        } else if (value instanceof Double number) {
            s.append(Double.isFinite(number) ? number.toString() : "null");
        } else if (value instanceof Map<?, ?> map) {
            s.append('{');
            String separator = "";
            for (Map.Entry<?, ?> e : map.entrySet()) {
                s.append(separator);
                string(String.valueOf(e.getKey()), s);
                s.append(": ");
                write(e.getValue(), s);
                separator = ", ";
            }
            s.append('}');
        } else if (value instanceof List<?> list) {
            s.append('[');
            String separator = "";
            for (Object item : list) {
                s.append(separator);
                write(item, s);
                separator = ", ";
            }
            s.append(']');
        } else {
            throw new IllegalStateException("no JSON form for " + value.getClass().getName());
        }
    }

    private static void string(String text, StringBuilder s) {
        s.append('"');
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        s.append('"');
    }
}
