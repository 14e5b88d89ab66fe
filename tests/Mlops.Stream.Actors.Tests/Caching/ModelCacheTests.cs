using Mlops.Stream.Inference.Caching;

namespace Mlops.Stream.Actors.Tests.Caching;

/// <summary>
/// The node's model cache on its own: entries stand for replicas, an eviction is recorded and
/// "unloaded" by the test calling <see cref="ModelCacheEntry.Released"/>, so every step is in the
/// test's hands and nothing depends on timing.
/// </summary>
public sealed class ModelCacheTests
{
    /// <summary>Hang guard for awaited reservations; never an assertion on duration.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private const long Mb = 1024 * 1024;

    private readonly List<string> _evicted = [];

    private ModelCacheEntry Entry(ModelCache cache, string name) => cache.Register(name, () =>
    {
        lock (_evicted) _evicted.Add(name);
    });

    private List<string> Evicted()
    {
        lock (_evicted) return [.. _evicted];
    }

    private static ModelCacheEntry Loaded(ModelCacheEntry entry, long bytes)
    {
        Assert.True(entry.TryReserveNow(bytes), $"{entry.Name} fits");
        entry.MarkLoaded();
        return entry;
    }

    [Fact]
    public void Without_a_budget_every_load_is_granted_and_counted()
    {
        var cache = new ModelCache();
        for (var i = 0; i < 50; i++) Loaded(Entry(cache, $"m{i}"), 100 * Mb);

        var summary = cache.Summary();
        Assert.Equal((50, 50, 5000 * Mb, 50L, 0L), (summary.Loaded, summary.Reserved, summary.ReservedBytes, summary.Loads, summary.Evictions));
        Assert.Null(summary.BudgetBytes);
    }

    [Fact]
    public void A_replica_starting_loads_only_when_the_budget_has_room_without_evicting()
    {
        var cache = new ModelCache(budgetBytes: 25 * Mb);
        Loaded(Entry(cache, "a"), 10 * Mb);
        Loaded(Entry(cache, "b"), 10 * Mb);

        Assert.False(Entry(cache, "c").TryReserveNow(10 * Mb));
        Assert.Empty(Evicted());
        Assert.Equal(20 * Mb, cache.Summary().ReservedBytes);
    }

    [Fact]
    public async Task A_cold_load_evicts_the_least_recently_used_idle_model_and_waits_until_it_has_unloaded()
    {
        var cache = new ModelCache(budgetBytes: 30 * Mb);
        var a = Loaded(Entry(cache, "a"), 10 * Mb);
        var b = Loaded(Entry(cache, "b"), 10 * Mb);
        var c = Loaded(Entry(cache, "c"), 10 * Mb);
        // a is used after b: b is now the least recently used.
        Assert.True(a.TryEnter());
        a.Exit();

        var d = Entry(cache, "d");
        var reserving = d.ReserveAsync(10 * Mb, CancellationToken.None);

        Assert.Equal(["b"], Evicted());
        Assert.False(reserving.IsCompleted);                         // b still holds its memory
        Assert.False(b.TryEnter());                                  // and takes no new request
        Assert.Equal(3, cache.Summary().Reserved);
        b.Released();
        await reserving.WaitAsync(Guard);
        d.MarkLoaded();
        Assert.Equal((3, 30 * Mb, 1L), (cache.Summary().Reserved, cache.Summary().ReservedBytes, cache.Summary().Evictions));
        Assert.True(c.TryEnter());
    }

    [Fact]
    public async Task A_model_with_a_request_in_flight_is_never_evicted_and_the_load_waits_until_it_is_idle()
    {
        var cache = new ModelCache(maxLoaded: 1);
        var busy = Loaded(Entry(cache, "busy"), 10 * Mb);
        Assert.True(busy.TryEnter());
        busy.Enter();                                                // and a Kafka record on top

        var cold = Entry(cache, "cold");
        var reserving = cold.ReserveAsync(10 * Mb, CancellationToken.None);
        Assert.Empty(Evicted());
        busy.Exit();
        Assert.Empty(Evicted());                                     // one request still in flight

        busy.Exit();
        Assert.Equal(["busy"], Evicted());
        busy.Released();
        await reserving.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_pinned_model_is_never_evicted_and_a_load_that_only_pinned_models_block_is_refused_at_once()
    {
        var cache = new ModelCache(budgetBytes: 20 * Mb);
        var pinned = Loaded(Entry(cache, "pinned"), 10 * Mb);
        pinned.SetPinned(true);
        var idle = Loaded(Entry(cache, "idle"), 10 * Mb);
        Assert.True(idle.TryEnter());                                // idle is now the most recently used, pinned the least
        idle.Exit();

        var first = Entry(cache, "first");
        var reserving = first.ReserveAsync(10 * Mb, CancellationToken.None);
        Assert.Equal(["idle"], Evicted());
        idle.Released();
        await reserving.WaitAsync(Guard);
        first.MarkLoaded();
        first.SetPinned(true);

        var refusal = await Assert.ThrowsAsync<ModelCacheRefusal>(() => Entry(cache, "third").ReserveAsync(10 * Mb, CancellationToken.None));

        Assert.Equal(ModelCacheRefusal.Kind.PinnedFillBudget, refusal.Reason);
        Assert.Contains("pinned models hold 20 MiB", refusal.Message);
        Assert.Equal(["idle"], Evicted());
        Assert.Equal((2, 0), (cache.Summary().Pinned, cache.Summary().WaitingLoads));
    }

    [Fact]
    public async Task A_model_larger_than_the_whole_budget_is_refused_with_the_sizes_named()
    {
        var cache = new ModelCache(budgetBytes: 64 * Mb);
        Loaded(Entry(cache, "small"), 10 * Mb);

        var refusal = await Assert.ThrowsAsync<ModelCacheRefusal>(() => Entry(cache, "huge").ReserveAsync(100 * Mb, CancellationToken.None));

        Assert.Equal(ModelCacheRefusal.Kind.LargerThanBudget, refusal.Reason);
        Assert.Contains("100 MiB", refusal.Message);
        Assert.Contains("64 MiB", refusal.Message);
        Assert.Empty(Evicted());
    }

    [Fact]
    public async Task A_load_given_up_by_its_caller_leaves_the_cache_as_it_was()
    {
        var cache = new ModelCache(maxLoaded: 1);
        var busy = Loaded(Entry(cache, "busy"), 10 * Mb);
        Assert.True(busy.TryEnter());
        using var giveUp = new CancellationTokenSource();

        var reserving = Entry(cache, "cold").ReserveAsync(10 * Mb, giveUp.Token);
        giveUp.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reserving.WaitAsync(Guard));
        busy.Exit();
        Assert.Empty(Evicted());                                     // nobody waits any more: nothing to make room for
        Assert.Equal((1, 0), (cache.Summary().Reserved, cache.Summary().WaitingLoads));
    }

    [Fact]
    public async Task A_session_beside_a_loaded_model_evicts_other_idle_models_never_its_own_and_adds_bytes_not_a_model()
    {
        var cache = new ModelCache(budgetBytes: 30 * Mb, maxLoaded: 3);
        var other = Loaded(Entry(cache, "other"), 10 * Mb);
        var swapping = Loaded(Entry(cache, "swapping"), 10 * Mb);
        var third = Loaded(Entry(cache, "third"), 10 * Mb);
        Assert.True(other.TryEnter());                               // now "swapping" is the least recently used
        other.Exit();

        // (A replica holds the model in flight meanwhile; the cache does not rely on it.)
        var reserving = swapping.ReserveBesideAsync(10 * Mb, CancellationToken.None);

        Assert.Equal(["third"], Evicted());                          // never itself, though it is the least recently used
        Assert.False(reserving.IsCompleted);
        third.Released();
        await reserving.WaitAsync(Guard);
        Assert.Equal((2, 30 * Mb), (cache.Summary().Reserved, cache.Summary().ReservedBytes));
        Assert.Equal(20 * Mb, cache.Entries().Single(e => e.Name == "swapping").Bytes);

        // The replaced version goes: its bytes come back, and a waiting load takes them.
        var next = Entry(cache, "next");
        Assert.False(next.TryReserveNow(10 * Mb));
        swapping.ReleaseSession(10 * Mb);
        Assert.True(next.TryReserveNow(10 * Mb));
        Assert.Equal((3, 30 * Mb), (cache.Summary().Reserved, cache.Summary().ReservedBytes));
    }

    [Fact]
    public async Task A_session_that_cannot_fit_beside_what_its_model_and_the_pinned_models_hold_is_refused_at_once()
    {
        var cache = new ModelCache(budgetBytes: 30 * Mb);
        var pinned = Loaded(Entry(cache, "pinned"), 10 * Mb);
        pinned.SetPinned(true);
        var model = Loaded(Entry(cache, "model"), 10 * Mb);
        model.Enter();

        var tooLarge = await Assert.ThrowsAsync<ModelCacheRefusal>(() => model.ReserveBesideAsync(25 * Mb, CancellationToken.None));
        var pinnedFill = await Assert.ThrowsAsync<ModelCacheRefusal>(() => model.ReserveBesideAsync(15 * Mb, CancellationToken.None));

        Assert.Equal(ModelCacheRefusal.Kind.LargerThanBudget, tooLarge.Reason);
        Assert.Contains("beside the 10 MiB it holds", tooLarge.Message);
        Assert.Equal(ModelCacheRefusal.Kind.PinnedFillBudget, pinnedFill.Reason);
        Assert.Empty(Evicted());
        Assert.Equal((20 * Mb, 0), (cache.Summary().ReservedBytes, cache.Summary().WaitingLoads));
    }

    [Fact]
    public async Task Loads_never_exceed_the_count_while_many_models_take_turns()
    {
        var cache = new ModelCache(maxLoaded: 3);
        var entries = Enumerable.Range(0, 12).Select(i => Entry(cache, $"m{i}")).ToList();
        var most = 0;
        for (var round = 0; round < 3; round++)
        {
            foreach (var entry in entries)
            {
                var reserving = entry.ReserveAsync(Mb, CancellationToken.None);
                // Unload whatever the cache chose, as a replica would.
                foreach (var name in Evicted()) entries.Single(e => e.Name == name).Released();
                lock (_evicted) _evicted.Clear();
                await reserving.WaitAsync(Guard);
                entry.MarkLoaded();
                most = Math.Max(most, cache.Summary().Reserved);
            }
        }
        Assert.Equal(3, most);
        Assert.Equal(36L, cache.Summary().Loads);
        Assert.Equal(33L, cache.Summary().Evictions);
    }
}
