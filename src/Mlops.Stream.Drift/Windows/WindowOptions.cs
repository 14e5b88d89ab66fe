namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// When a tumbling window closes: at <see cref="MaxEvents"/> events or <see cref="MaxSpan"/> of
/// served time, whichever comes first (issue 11's defaults, 1,000 events and 5 minutes), and
/// never holding more than <see cref="MaxRows"/> rows, which is what bounds memory when events
/// carry batches. Invalid values are refused when set, naming the property.
/// </summary>
public sealed record WindowOptions
{
    /// <summary>1,000 events, 5 minutes, 100,000 rows.</summary>
    public static WindowOptions Default { get; } = new();

    /// <summary>Events after which a window closes. At least 1.</summary>
    public int MaxEvents { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxEvents), value, "MaxEvents must be at least 1"); } = 1000;

    /// <summary>Served time after a window's first event at which it closes. Positive.</summary>
    public TimeSpan MaxSpan { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxSpan), value, "MaxSpan must be positive"); } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Rows (feature vectors) a window may hold; an event that would overflow it closes the window
    /// first, and an event with more rows than this is refused. At least 1.
    /// </summary>
    public int MaxRows { get; init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxRows), value, "MaxRows must be at least 1"); } = 100_000;
}
