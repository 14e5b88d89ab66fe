namespace Mlops.Stream.Inference.Wire;

/// <summary>Limits and policies applied while decoding a request body.</summary>
public sealed record DecodeOptions
{
    public static DecodeOptions Default { get; } = new();

    /// <summary>NaN/infinity (written as the strings "NaN", "Infinity", "-Infinity" or overflowing numbers).</summary>
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Reject;

    /// <summary>
    /// Upper bound on elements per tensor, checked against the declared shape before anything is
    /// allocated, so a request declaring shape [1e12] cannot exhaust memory.
    /// </summary>
    public long MaxElementsPerTensor { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Longest request id accepted, in UTF-8 bytes. The id is copied into the prediction, the
    /// served event and their headers, so an unbounded id could make them too large for Kafka.
    /// </summary>
    public int MaxIdBytes { get; init; } = 1024;

    /// <summary>Deepest shape accepted; guards the nested-array walker.</summary>
    public int MaxRank { get; init; } = 16;
}
