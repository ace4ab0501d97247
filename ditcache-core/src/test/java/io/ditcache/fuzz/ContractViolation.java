package io.ditcache.fuzz;

/** A fuzz input on which a parser broke {@link ParserContract}: what it did, with the throwable it threw, if any. */
public final class ContractViolation extends AssertionError {
    private static final long serialVersionUID = 1L;

    /** The ways to break the contract. */
    public enum Kind {
        /** Threw a type its documentation does not name (a NullPointerException, a raw Jackson exception...). */
        UNDOCUMENTED_TYPE,
        /** Threw a documented type without a message. */
        NO_MESSAGE,
        /** Threw a documented type whose message spans lines. */
        MULTILINE_MESSAGE,
        /** Threw a documented type whose message does not name the file. */
        UNNAMED_FILE,
        /** Allocated more Java heap than the input justifies. */
        RUNAWAY_HEAP,
        /** Grew the resident set (libtorch) more than the input justifies. */
        RUNAWAY_NATIVE,
        /** Accepted the input but returned something inconsistent with it (checked by the target). */
        WRONG_RESULT
    }

    private final Kind kind;

    public ContractViolation(Kind kind, String message, Throwable cause) {
        super(kind + ": " + message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
