package io.torchlstm4j.spark;

/** Finds the row error inside what a failed Spark job throws. */
final class Failures {

    private Failures() {
    }

    /**
     * The {@link CorruptRowException} that failed the job, or null: Spark wraps a task's exception (as the cause
     * when it could be sent back to the driver, otherwise as text in its message).
     */
    static CorruptRowException corruptRow(Throwable failure) {
        String marker = CorruptRowException.class.getName() + ": ";
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CorruptRowException c) {
                return c;
            }
            String message = t.getMessage();
            int at = message == null ? -1 : message.indexOf(marker);
            if (at >= 0) {
                String rest = message.substring(at + marker.length());
                int end = rest.indexOf('\n');
                return new CorruptRowException(null, end < 0 ? rest : rest.substring(0, end));
            }
        }
        return null;
    }
}
