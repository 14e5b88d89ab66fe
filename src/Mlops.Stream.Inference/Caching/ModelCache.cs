namespace Mlops.Stream.Inference.Caching;

/// <summary>
/// The node's budget for loaded models (Ray Serve's model multiplexing, Seldon's over-commit): a
/// memory budget in bytes and an optional count of loaded models. Every replica on the node has one
/// <see cref="ModelCacheEntry"/>; it asks the cache before it loads a session
/// (<see cref="ModelCacheEntry.ReserveAsync"/>) and tells it when it has unloaded
/// (<see cref="ModelCacheEntry.Released"/>); the sessions it loads beside a loaded one (a swap's new version, a
/// canary) are added to its reservation (<see cref="ModelCacheEntry.ReserveBesideAsync"/>) and given back one by one
/// (<see cref="ModelCacheEntry.ReleaseSession"/>), so every session a model holds counts. When a load would pass the budget, the least recently
/// used idle entry is told to unload first: never one with requests in flight, never a pinned one,
/// never one still loading. The load waits until the evicted entries have really released their
/// sessions, so the loaded count and bytes never pass the limits, not even for a moment.
/// Without a budget (the default) every reservation is granted at once: today's behaviour, all
/// deployed models loaded, with the same counts and metrics.
/// Thread-safe: one lock guards all state; eviction callbacks run outside it.
/// </summary>
public sealed class ModelCache
{
    private readonly object _lock = new();
    private readonly HashSet<ModelCacheEntry> _entries = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private long _usedBytes;
    private int _usedCount;
    private long _useClock;
    private long _loads;
    private long _evictions;
    private int _peakCount;
    private long _peakBytes;

    /// <param name="budgetBytes">Most bytes of loaded sessions (as estimated by <see cref="EstimateBytes"/>); null: no budget.</param>
    /// <param name="maxLoaded">Most loaded models on the node; null: no limit.</param>
    public ModelCache(long? budgetBytes = null, int? maxLoaded = null)
    {
        if (budgetBytes is <= 0) throw new ArgumentOutOfRangeException(nameof(budgetBytes), budgetBytes, "The memory budget must be positive.");
        if (maxLoaded is <= 0) throw new ArgumentOutOfRangeException(nameof(maxLoaded), maxLoaded, "The most loaded models must be at least 1.");
        BudgetBytes = budgetBytes;
        MaxLoaded = maxLoaded;
    }

    public long? BudgetBytes { get; }

    public int? MaxLoaded { get; }

    /// <summary>Whether the cache can refuse or evict at all (a budget or a count is set).</summary>
    public bool Bounded => BudgetBytes is not null || MaxLoaded is not null;

    /// <summary>
    /// Fixed cost of one ONNX Runtime session besides its weights (graph, kernels, allocator): the
    /// <c>models</c> bench measures about 0.5 MB of process memory per session of the 3 KB demo model; twice that, to be safe.
    /// </summary>
    public const long SessionOverheadBytes = 1L * 1024 * 1024;

    /// <summary>
    /// What a loaded session of an ONNX file of <paramref name="onnxBytes"/> costs: twice the file
    /// (the initializers as ONNX Runtime holds them, plus copies its graph optimizations and pre-packing
    /// may make) plus <see cref="SessionOverheadBytes"/>. An estimate made before loading, not a
    /// measurement: the README compares it with the process memory the <c>models</c> bench measures.
    /// </summary>
    public static long EstimateBytes(long onnxBytes) => 2 * onnxBytes + SessionOverheadBytes;

    /// <summary>Adds a replica. <paramref name="evict"/> is called (on any thread, outside the lock) when it must unload.</summary>
    public ModelCacheEntry Register(string name, Action evict)
    {
        var entry = new ModelCacheEntry(this, name, evict);
        lock (_lock) _entries.Add(entry);
        return entry;
    }

    public ModelCacheSummary Summary()
    {
        lock (_lock)
        {
            var loaded = _entries.Where(e => e.State == EntryState.Loaded).ToList();
            return new ModelCacheSummary(BudgetBytes, MaxLoaded, _usedCount, _usedBytes, loaded.Count, _entries.Count, _entries.Count(e => e.Pinned),
                _loads, _evictions, _waiters.Count)
            {
                PeakReserved = _peakCount,
                PeakReservedBytes = _peakBytes,
            };
        }
    }

    /// <summary>Every replica's place in the cache, most recently used first.</summary>
    public IReadOnlyList<ModelCacheEntryView> Entries()
    {
        lock (_lock)
        {
            return [.. _entries.OrderByDescending(e => e.LastUse)
                .Select(e => new ModelCacheEntryView(e.Name, e.State.ToString().ToLowerInvariant(), e.Bytes, Volatile.Read(ref e.InFlightCount), e.Pinned, e.Loads, e.Evictions))];
        }
    }

    internal bool TryReserveNow(ModelCacheEntry entry, long bytes)
    {
        lock (_lock)
        {
            RequireUnloaded(entry);
            if (_waiters.Count > 0 || !Fits(_usedBytes, _usedCount, bytes)) return false;
            Grant(entry, bytes);
            return true;
        }
    }

    internal async Task ReserveAsync(ModelCacheEntry entry, long bytes, CancellationToken cancellationToken)
    {
        if (bytes > BudgetBytes)
            throw new ModelCacheRefusal(ModelCacheRefusal.Kind.LargerThanBudget,
                $"Model '{entry.Name}' needs about {Bytes(bytes)} loaded, more than the node's whole memory budget of {Bytes(BudgetBytes.Value)} (Inference:ModelMemoryBudget).");
        await WaitForRoomAsync(new Waiter(entry, bytes), () => RequireUnloaded(entry), cancellationToken).ConfigureAwait(false);
    }

    internal Task ReserveBesideAsync(ModelCacheEntry entry, long bytes, CancellationToken cancellationToken) =>
        WaitForRoomAsync(new Waiter(entry, bytes, beside: true), () =>
        {
            if (entry.State != EntryState.Loaded)
                throw new ModelCacheRefusal(ModelCacheRefusal.Kind.Busy, $"'{entry.Name}' is being unloaded to make room in the node's memory budget; try again.");
            if (entry.Bytes + bytes > BudgetBytes)
                throw new ModelCacheRefusal(ModelCacheRefusal.Kind.LargerThanBudget,
                    $"'{entry.Name}' needs about {Bytes(bytes)} to load a version beside the {Bytes(entry.Bytes)} it holds, more than the node's whole memory budget of {Bytes(BudgetBytes.Value)} (Inference:ModelMemoryBudget).");
        }, cancellationToken);

    /// <summary>
    /// Queues <paramref name="waiter"/> once <paramref name="checkUnderLock"/> (run under the lock, throwing to refuse)
    /// allows it, evicts what makes room, and waits until the waiter is granted or cancelled.
    /// </summary>
    private async Task WaitForRoomAsync(Waiter waiter, Action checkUnderLock, CancellationToken cancellationToken)
    {
        List<ModelCacheEntry> evict;
        lock (_lock)
        {
            checkUnderLock();
            _waiters.AddLast(waiter.Node);
            evict = Pump();
        }
        Evict(evict);
        await using var cancel = cancellationToken.Register(() => Cancel(waiter));
        await waiter.Granted.Task.ConfigureAwait(false);
    }

    internal void ReleaseSession(ModelCacheEntry entry, long bytes)
    {
        List<ModelCacheEntry> evict;
        lock (_lock)
        {
            // Once unloaded, the entry's whole reservation was freed with it.
            if (entry.State == EntryState.Unloaded) return;
            var freed = Math.Min(bytes, entry.Bytes);
            entry.Bytes -= freed;
            _usedBytes -= freed;
            evict = Pump();
        }
        Evict(evict);
    }

    internal void MarkLoaded(ModelCacheEntry entry)
    {
        lock (_lock)
        {
            if (entry.State != EntryState.Reserved) return;
            entry.State = EntryState.Loaded;
            entry.LastUse = ++_useClock;
            entry.Loads++;
            _loads++;
        }
    }

    /// <summary>The entry's session is gone (unloaded, a load failed, or the replica stopped): its bytes are free.</summary>
    internal void Release(ModelCacheEntry entry, bool remove)
    {
        List<ModelCacheEntry> evict;
        lock (_lock)
        {
            if (entry.State != EntryState.Unloaded)
            {
                _usedBytes -= entry.Bytes;
                _usedCount--;
                entry.State = EntryState.Unloaded;
                entry.Bytes = 0;
            }
            if (remove)
            {
                _entries.Remove(entry);
                foreach (var waiter in _waiters.Where(w => w.Entry == entry).ToList())
                {
                    _waiters.Remove(waiter.Node);
                    waiter.Granted.TrySetCanceled();
                }
            }
            evict = Pump();
        }
        Evict(evict);
    }

    internal bool TryEnter(ModelCacheEntry entry)
    {
        // Without limits nothing is ever evicted: no lock on the request path, and no recency to keep.
        if (!Bounded)
        {
            Interlocked.Increment(ref entry.InFlightCount);
            return true;
        }
        lock (_lock)
        {
            if (entry.State != EntryState.Loaded) return false;
            entry.InFlightCount++;
            entry.LastUse = ++_useClock;
            return true;
        }
    }

    internal void Enter(ModelCacheEntry entry)
    {
        if (!Bounded)
        {
            Interlocked.Increment(ref entry.InFlightCount);
            return;
        }
        lock (_lock)
        {
            entry.InFlightCount++;
            entry.LastUse = ++_useClock;
        }
    }

    internal void Exit(ModelCacheEntry entry)
    {
        if (!Bounded)
        {
            Interlocked.Decrement(ref entry.InFlightCount);
            return;
        }
        List<ModelCacheEntry> evict;
        lock (_lock)
        {
            entry.InFlightCount--;
            entry.LastUse = ++_useClock;
            // A load may be waiting for this entry to become idle.
            if (entry.InFlightCount > 0 || _waiters.Count == 0) return;
            evict = Pump();
        }
        Evict(evict);
    }

    internal void SetPinned(ModelCacheEntry entry, bool pinned)
    {
        List<ModelCacheEntry> evict;
        lock (_lock)
        {
            if (entry.Pinned == pinned) return;
            entry.Pinned = pinned;
            // Unpinning may make room a waiting load needs, and pinning may make a waiting load impossible.
            evict = Pump();
        }
        Evict(evict);
    }

    /// <summary>
    /// Grants waiting reservations in arrival order while they fit; for the first that does not,
    /// chooses idle entries to evict, least recently used first, or refuses it when pinned models
    /// alone leave no room. Returns the entries to tell to unload (told outside the lock).
    /// </summary>
    private List<ModelCacheEntry> Pump()
    {
        var evict = new List<ModelCacheEntry>();
        while (_waiters.First is { Value: var head })
        {
            if (Fits(_usedBytes, _usedCount, head))
            {
                _waiters.RemoveFirst();
                Grant(head);
                head.Granted.TrySetResult();
                continue;
            }
            if (PinnedLeaveNoRoom(head) is { } refusal)
            {
                _waiters.RemoveFirst();
                head.Granted.TrySetException(refusal);
                continue;
            }
            // Entries already unloading will free their bytes; evict more only if that is not enough.
            var unloading = _entries.Where(e => e.State == EntryState.Evicting).ToList();
            var bytes = _usedBytes - unloading.Sum(e => e.Bytes);
            var count = _usedCount - unloading.Count;
            var victims = new List<ModelCacheEntry>();
            foreach (var idle in _entries.Where(e => e is { State: EntryState.Loaded, InFlightCount: 0, Pinned: false } && e != head.Entry).OrderBy(e => e.LastUse))
            {
                if (Fits(bytes, count, head)) break;
                victims.Add(idle);
                bytes -= idle.Bytes;
                count--;
            }
            // Evict only when that makes room; otherwise busy entries must finish first (Exit pumps again),
            // and evicting the idle ones now would unload models for nothing.
            if (Fits(bytes, count, head))
            {
                foreach (var victim in victims)
                {
                    victim.State = EntryState.Evicting;
                    victim.Evictions++;
                    _evictions++;
                }
                evict.AddRange(victims);
            }
            break;
        }
        return evict;
    }

    private ModelCacheRefusal? PinnedLeaveNoRoom(Waiter head)
    {
        var pinned = _entries.Where(e => e.Pinned && e.State != EntryState.Unloaded && e != head.Entry).ToList();
        // A session loaded beside others stays with them: what the entry holds already cannot make room for it.
        var needs = head.Bytes + (head.Beside ? head.Entry.Bytes : 0);
        if (BudgetBytes is { } budget && pinned.Sum(e => e.Bytes) + needs > budget)
            return new ModelCacheRefusal(ModelCacheRefusal.Kind.PinnedFillBudget,
                $"Model '{head.Entry.Name}' needs about {Bytes(needs)} but pinned models hold {Bytes(pinned.Sum(e => e.Bytes))} of the node's memory budget of {Bytes(budget)}; unpin one or raise Inference:ModelMemoryBudget.");
        if (!head.Beside && MaxLoaded is { } max && pinned.Count + 1 > max)
            return new ModelCacheRefusal(ModelCacheRefusal.Kind.PinnedFillBudget,
                $"Model '{head.Entry.Name}' cannot load: {pinned.Count} pinned models fill Inference:MaxLoadedModels={max}; unpin one or raise it.");
        return null;
    }

    private void Cancel(Waiter waiter)
    {
        List<ModelCacheEntry> evict;
        lock (_lock)
        {
            if (waiter.Node.List is null) return;
            _waiters.Remove(waiter.Node);
            evict = Pump();
        }
        waiter.Granted.TrySetCanceled();
        Evict(evict);
    }

    private bool Fits(long usedBytes, int usedCount, long bytes) =>
        (BudgetBytes is not { } budget || usedBytes + bytes <= budget) && (MaxLoaded is not { } max || usedCount + 1 <= max);

    /// <summary>A session beside an entry's others adds bytes, not a model: only the memory budget limits it.</summary>
    private bool Fits(long usedBytes, int usedCount, Waiter waiter) => waiter.Beside
        ? BudgetBytes is not { } budget || usedBytes + waiter.Bytes <= budget
        : Fits(usedBytes, usedCount, waiter.Bytes);

    private void Grant(Waiter waiter)
    {
        if (!waiter.Beside)
        {
            Grant(waiter.Entry, waiter.Bytes);
            return;
        }
        waiter.Entry.Bytes += waiter.Bytes;
        _usedBytes += waiter.Bytes;
        _peakBytes = Math.Max(_peakBytes, _usedBytes);
    }

    private void Grant(ModelCacheEntry entry, long bytes)
    {
        entry.State = EntryState.Reserved;
        entry.Bytes = bytes;
        _usedBytes += bytes;
        _usedCount++;
        _peakCount = Math.Max(_peakCount, _usedCount);
        _peakBytes = Math.Max(_peakBytes, _usedBytes);
    }

    private static void RequireUnloaded(ModelCacheEntry entry)
    {
        if (entry.State != EntryState.Unloaded)
            throw new InvalidOperationException($"'{entry.Name}' reserved memory while it holds a reservation ({entry.State}); release it first.");
    }

    private static void Evict(List<ModelCacheEntry> entries)
    {
        foreach (var entry in entries) entry.Evict();
    }

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.##} KiB",
        _ => $"{bytes} B",
    };

    private sealed class Waiter
    {
        public Waiter(ModelCacheEntry entry, long bytes, bool beside = false)
        {
            Entry = entry;
            Bytes = bytes;
            Beside = beside;
            Node = new LinkedListNode<Waiter>(this);
        }

        public ModelCacheEntry Entry { get; }
        public long Bytes { get; }

        /// <summary>A second session of a loaded entry (a swap's new version, a canary), not a model's first.</summary>
        public bool Beside { get; }
        public LinkedListNode<Waiter> Node { get; }
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

internal enum EntryState { Unloaded, Reserved, Loaded, Evicting }

/// <summary>
/// One replica's place in the <see cref="ModelCache"/>. Its replica reserves before a load, marks it
/// loaded, counts its requests in and out (an entry with requests in flight is never evicted), and
/// releases when its sessions are disposed. State is read and written under the cache's lock.
/// </summary>
public sealed class ModelCacheEntry : IDisposable
{
    private readonly ModelCache _cache;
    private readonly Action _evict;

    internal ModelCacheEntry(ModelCache cache, string name, Action evict)
    {
        _cache = cache;
        Name = name;
        _evict = evict;
    }

    public string Name { get; }

    internal EntryState State { get; set; }
    internal long Bytes { get; set; }
    internal long LastUse { get; set; }
    /// <summary>Requests in flight; a field so an unbounded cache counts them with <see cref="Interlocked"/> instead of its lock.</summary>
    internal int InFlightCount;
    internal int Loads { get; set; }
    internal int Evictions { get; set; }

    /// <summary>Never evicted while pinned (an operator's choice per model).</summary>
    public bool Pinned { get; internal set; }

    public void SetPinned(bool pinned) => _cache.SetPinned(this, pinned);

    /// <summary>Takes <paramref name="bytes"/> only if they fit now without evicting anything (a replica starting); false otherwise.</summary>
    public bool TryReserveNow(long bytes) => _cache.TryReserveNow(this, bytes);

    /// <summary>
    /// Takes <paramref name="bytes"/>, evicting least recently used idle models and waiting until they
    /// have unloaded (a cold start). Throws <see cref="ModelCacheRefusal"/> when the model can never fit
    /// (larger than the budget, or pinned models fill it), and <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> ends the wait (busy models did not become idle in time).
    /// </summary>
    public Task ReserveAsync(long bytes, CancellationToken cancellationToken) => _cache.ReserveAsync(this, bytes, cancellationToken);

    /// <summary>
    /// Takes <paramref name="bytes"/> more for a session a loaded model holds beside its production
    /// one (a swap's new version, a canary), evicting least recently used idle other models and
    /// waiting as <see cref="ReserveAsync"/> does; the model counts once against the maximum. Hold a
    /// request in flight (<see cref="Enter"/>) meanwhile, so the model itself is not evicted under the load.
    /// Throws <see cref="ModelCacheRefusal"/> when the session can never fit beside what the model holds.
    /// </summary>
    public Task ReserveBesideAsync(long bytes, CancellationToken cancellationToken) => _cache.ReserveBesideAsync(this, bytes, cancellationToken);

    /// <summary>One of the sessions the model holds is freed while the others serve (a canary withdrawn, the version a swap replaced).</summary>
    public void ReleaseSession(long bytes) => _cache.ReleaseSession(this, bytes);

    /// <summary>The reserved session is loaded and serves (counted as a load).</summary>
    public void MarkLoaded() => _cache.MarkLoaded(this);

    /// <summary>The entry's sessions are disposed (or its load failed): its reservation is free.</summary>
    public void Released() => _cache.Release(this, remove: false);

    /// <summary>An HTTP request begins, only while loaded and not being evicted; false: it must wait for a load.</summary>
    public bool TryEnter() => _cache.TryEnter(this);

    /// <summary>A Kafka request begins on the running stream (which an eviction drains before unloading).</summary>
    public void Enter() => _cache.Enter(this);

    public void Exit() => _cache.Exit(this);

    internal void Evict() => _evict();

    /// <summary>The replica stopped: its reservation is freed and it is no longer a candidate.</summary>
    public void Dispose() => _cache.Release(this, remove: true);
}

/// <summary>
/// The node's loaded models against its budget: <see cref="Reserved"/> counts loads in progress and
/// models still unloading, which hold their bytes until their sessions are gone.
/// </summary>
public sealed record ModelCacheSummary(
    long? BudgetBytes, int? MaxLoaded, int Reserved, long ReservedBytes, int Loaded, int Replicas, int Pinned, long Loads, long Evictions,
    int WaitingLoads)
{
    /// <summary>The most models that held memory at once since the node started (never above <see cref="MaxLoaded"/>).</summary>
    public int PeakReserved { get; init; }

    /// <summary>The most bytes held at once since the node started (never above <see cref="BudgetBytes"/>).</summary>
    public long PeakReservedBytes { get; init; }
}

/// <summary>
/// One replica in the cache: <paramref name="State"/> is <c>unloaded</c>, <c>reserved</c> (loading),
/// <c>loaded</c> or <c>evicting</c>; <paramref name="Bytes"/> its estimate while it holds memory;
/// <paramref name="Loads"/> and <paramref name="Evictions"/> since it started.
/// </summary>
public sealed record ModelCacheEntryView(string Name, string State, long Bytes, int InFlight, bool Pinned, int Loads, int Evictions);

/// <summary>A load the budget did not take; <see cref="Exception.Message"/> names the model, the sizes and the setting.</summary>
public sealed class ModelCacheRefusal(ModelCacheRefusal.Kind reason, string message) : Exception(message)
{
    /// <summary>
    /// <see cref="LargerThanBudget"/> and <see cref="PinnedFillBudget"/> never fit (HTTP 507);
    /// <see cref="Busy"/>: the loaded models stayed busy while the load waited for room (HTTP 503, try again).
    /// </summary>
    public enum Kind { LargerThanBudget, PinnedFillBudget, Busy }

    public Kind Reason { get; } = reason;
}
