namespace Mlops.Stream.Testing;

/// <summary>
/// Waits on a condition, never on a fixed sleep: polls until it holds or the deadline passes, then
/// fails saying what was awaited and what was seen last.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<object?>? state = null) =>
        HoldsAsync(() => Task.FromResult(condition()), what, timeout, state);

    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<object?>? state = null) =>
        await ReadsAsync(condition, held => held, what, timeout, _ => state?.Invoke()?.ToString() ?? "").ConfigureAwait(false);

    /// <summary>
    /// Reads a value until it satisfies <paramref name="condition"/> and returns it; on timeout the
    /// failure shows the last value read (through <paramref name="describe"/> when given).
    /// </summary>
    public static async Task<T> ReadsAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, TimeSpan? timeout = null,
        Func<T, string>? describe = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await read().ConfigureAwait(false);
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline)
            {
                var last = describe is null ? value?.ToString() : describe(value);
                throw new TimeoutException($"Timed out after {timeout ?? DefaultTimeout} waiting until {what}" +
                    (string.IsNullOrEmpty(last) ? "" : $"; last seen: {last}"));
            }
            await Task.Delay(interval ?? DefaultInterval).ConfigureAwait(false);
        }
    }
}
