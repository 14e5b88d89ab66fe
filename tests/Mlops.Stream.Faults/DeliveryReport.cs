namespace Mlops.Stream.Faults;

/// <summary>
/// What became of every request of a run, counted by request id: <see cref="Lost"/> requests have
/// no prediction, served event or dead letter; <see cref="Duplicated"/> counts answers (predictions
/// and dead letters) beyond one per request record; <see cref="Wrong"/> predictions differ from a
/// direct ONNX Runtime run of their input (or answer no request record, or do not decode);
/// <see cref="Reordered"/> predictions came after a later request of the same key had been answered;
/// <see cref="LongestGap"/> is the longest time between two consecutive predictions.
/// <see cref="Problems"/> names the first few requests behind the non-zero counts.
/// </summary>
public sealed record DeliveryReport(
    int Sent, int Predicted, int DeadLettered, int Lost, int Duplicated, int Wrong, int Reordered, TimeSpan LongestGap,
    IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Records the broker dropped from the start of the model's topics (its log cap), by topic. When
    /// not empty the run is not a fair test of the node: requests dropped before anyone read them are
    /// not in <see cref="Sent"/>, and dropped answers can make a request look lost.
    /// </summary>
    public IReadOnlyDictionary<string, long> DroppedByBroker { get; init; } = new Dictionary<string, long>();

    public override string ToString() =>
        $"sent {Sent}, predicted {Predicted}, dead-lettered {DeadLettered}, lost {Lost}, duplicated {Duplicated}, wrong {Wrong}, " +
        $"reordered {Reordered}, longest gap {LongestGap.TotalSeconds:F2} s" +
        (DroppedByBroker.Count == 0 ? "" : $", dropped by the broker {DroppedByBroker.Values.Sum():N0}") +
        (Problems.Count == 0 ? "" : $"; first problems: {string.Join("; ", Problems)}");
}
