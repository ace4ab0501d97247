package io.ditcache;

/** Always computes. */
final class NoCache implements CachePolicy {
    static final NoCache INSTANCE = new NoCache();

    private NoCache() {
    }

    @Override
    public Decision decide(Query query) {
        return Decision.COMPUTE;
    }

    /** Computes only: the runtime keeps no cached values. */
    @Override
    public java.util.Set<Decision> decisions() {
        return java.util.Set.of(Decision.COMPUTE);
    }

    @Override
    public String name() {
        return "none";
    }
}
