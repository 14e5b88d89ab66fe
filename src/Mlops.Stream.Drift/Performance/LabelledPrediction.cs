namespace Mlops.Stream.Drift.Performance;

/// <summary>
/// One served row with its ground truth: the class the caller labelled it with, the class the
/// model predicted, and the probability the model gave the positive class (class 1; NaN when the
/// model's outputs hold no probabilities or the model is not binary).
/// </summary>
public readonly record struct LabelledPrediction(int Actual, int Predicted, double PositiveScore);
