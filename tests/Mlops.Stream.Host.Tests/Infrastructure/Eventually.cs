namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>Waits on a condition, never on a fixed sleep: polls until it holds or the deadline passes, then fails saying what was awaited.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    public static async Task HoldsAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<object?>? state = null) =>
        await HoldsAsync(() => Task.FromResult(condition()), what, timeout, state);

    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<object?>? state = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting until {what}{(state is null ? "" : $"; last state: {state()}")}");
            await Task.Delay(100);
        }
    }
}
