namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// What to do with NaN and ±infinity in floating-point inputs. Rejecting is the default because a
/// NaN feature silently produces a NaN prediction, which is worse than a dead-lettered request.
/// </summary>
public enum NonFinitePolicy
{
    Reject = 0,
    Allow = 1,
}
