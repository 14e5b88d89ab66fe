using System.Collections.Concurrent;

namespace Mlops.Stream.Inference.Registry.Internal;

/// <summary>
/// What was read from registry files (or folders), kept in memory by path and given again while the
/// entry's stamp (last-write time, and length for a file) is unchanged: one stat instead of a read
/// and a parse. Other processes sharing the folder (the nodes of a cluster) write by renaming new
/// files into place, which changes the stamp, so their changes are seen on the next call.
/// <para>
/// File times tick coarsely (a kernel tick on Linux, up to seconds on some network file systems), so
/// a file replaced twice within one tick may keep its stamp. An entry is therefore trusted only when
/// its file had last been written at least <see cref="SettleTime"/> before it was read (git's
/// "racily clean" rule): any later write then gets a later time. A file written more recently is
/// read again on every call until it has settled.
/// </para>
/// <para>Bounded: beyond <c>capacity</c> entries the one read longest ago is dropped.</para>
/// </summary>
internal sealed class StampedCache<T>(int capacity, TimeProvider clock) where T : class
{
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _loads;

    /// <summary>How many times an entry was loaded (read and parsed) rather than given from memory.</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>
    /// The cached value of <paramref name="entry"/>, or <paramref name="load"/>'s when the entry is new,
    /// changed or not yet settled; null (and forgotten) when it does not exist. A load that throws caches nothing.
    /// </summary>
    public async Task<T?> GetAsync(FileSystemInfo entry, Func<Task<T?>> load)
    {
        var path = entry.FullName;
        var now = clock.GetUtcNow().UtcDateTime;
        entry.Refresh();
        if (!entry.Exists)
        {
            _entries.TryRemove(path, out _);
            return null;
        }

        var stamp = new Stamp(entry.LastWriteTimeUtc, entry is FileInfo file ? file.Length : -1);
        if (_entries.TryGetValue(path, out var cached) && cached.Stamp == stamp && cached.Settled) return cached.Value;

        Interlocked.Increment(ref _loads);
        var value = await load().ConfigureAwait(false);
        if (value is null)
        {
            _entries.TryRemove(path, out _);
            return null;
        }

        if (!_entries.ContainsKey(path) && _entries.Count >= capacity) DropOldest();
        // Read after the stat: should the file have been replaced in between, the value is newer than
        // the stamp, and the next call, seeing the new stamp, reads it once more.
        _entries[path] = new Entry(stamp, stamp.LastWrite < now - SettleTime, value, now);
        return value;
    }

    /// <summary>The file at <paramref name="path"/> parsed by <paramref name="parse"/>, from memory while unchanged; null when there is no such file.</summary>
    public Task<T?> GetFileAsync(string path, Func<byte[], T> parse, CancellationToken cancellationToken) =>
        GetAsync(new FileInfo(path), async () => await ReadIfExistsAsync(path, cancellationToken).ConfigureAwait(false) is { } bytes ? parse(bytes) : null);

    /// <summary>Forgets <paramref name="path"/> (after this process wrote it).</summary>
    public void Forget(string path) => _entries.TryRemove(Path.GetFullPath(path), out _);

    private static async Task<byte[]?> ReadIfExistsAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private void DropOldest()
    {
        var oldest = _entries.MinBy(e => e.Value.ReadAt);
        _entries.TryRemove(oldest.Key, out _);
    }

    private readonly record struct Stamp(DateTime LastWrite, long Length);

    private sealed record Entry(Stamp Stamp, bool Settled, T Value, DateTime ReadAt);
}
