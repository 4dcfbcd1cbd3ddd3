/**
 * Remembers when each key was last used and writes it in batches, so a
 * request never pays for a database write. Between flushes the pending value
 * is the freshest this instance knows; listApiKeys merges it in.
 */
export class LastUsedTracker {
    pending = new Map();
    repo;
    constructor(repo) {
        this.repo = repo;
    }
    touch(keyId, at) {
        this.pending.set(keyId, at);
    }
    pendingFor(keyId) {
        return this.pending.get(keyId);
    }
    /** One write per key used since the last flush; failed batches are kept for the next one. */
    async flush() {
        if (this.pending.size === 0)
            return 0;
        const batch = this.pending;
        this.pending = new Map();
        try {
            await this.repo.recordLastUsed(batch);
            return batch.size;
        }
        catch (error) {
            for (const [id, at] of batch) {
                const newer = this.pending.get(id);
                if (!newer || newer < at)
                    this.pending.set(id, at);
            }
            throw error;
        }
    }
}
