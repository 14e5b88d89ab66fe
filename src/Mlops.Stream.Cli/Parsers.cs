using System.CommandLine.Parsing;
using System.Globalization;

namespace Mlops.Stream.Cli;

/// <summary>
/// Number parsers for arguments and options that check their range in the same step. A validator
/// alone is not enough: System.CommandLine runs validators on values that failed to convert, and
/// reading such a value throws instead of reporting a usage error.
/// </summary>
internal static class Parsers
{
    public static Func<ArgumentResult, int> PositiveInt(string what) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1) return value;
        result.AddError($"{what} must be a positive integer (got '{text}')");
        return 0;
    };

    public static Func<ArgumentResult, int?> IntBetween(string what, int min, int max) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        result.AddError($"{what} must be an integer from {min} to {max} (got '{text}')");
        return null;
    };

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>] (<c>exclusiveMin</c>: above min).</summary>
    public static Func<ArgumentResult, double> Number(string what, double min, double max, bool exclusiveMin = false, string? hint = null) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value) && (exclusiveMin ? value > min : value >= min) && value <= max)
            return value;
        var range = exclusiveMin ? $"greater than {Show(min)}" : $"from {Show(min)}";
        result.AddError($"{what} must be a number {range} to {Show(max)} (got '{text}'){hint}");
        return 0;
    };

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);
}
