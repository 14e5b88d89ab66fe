namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>One open-loop run: offered rate, what was answered, and latency from each request's intended start.</summary>
public sealed record OpenLoopResult(string Path, double Fraction, double OfferedPerSecond, long Sent, long Answered, double SendSeconds, LatencySample Latency)
{
    public long Lost => Sent - Answered;

    public string Label => $"{Path}, {Fraction:P0} of capacity ({OfferedPerSecond:N0}/s)";
}
