using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Feedback;

/// <summary>
/// What the join keeps of one served event until its label comes: the version and window it went
/// into, and per row the predicted class and the probability of the positive class.
/// </summary>
/// <param name="Id">The request id.</param>
/// <param name="Version">The model version that served it.</param>
/// <param name="Window">The sequence number of the version's window the event went into (0 for the first), so a label can tell it came late.</param>
/// <param name="Classes">Classes of the model (probability columns, else manifest labels); 0 when unknown.</param>
/// <param name="ClassNames">The manifest's class labels, in probability-column order (maybe empty).</param>
/// <param name="Predicted">The predicted class of each row.</param>
/// <param name="PositiveScores">The probability of class 1 of each row; NaN when the model is not binary or gave no probabilities.</param>
public sealed record ServedPrediction(
    string Id,
    int Version,
    long Window,
    int Classes,
    ImmutableArray<string> ClassNames,
    int[] Predicted,
    double[] PositiveScores);
