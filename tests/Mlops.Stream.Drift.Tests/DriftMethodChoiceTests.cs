using System.Collections.Immutable;

namespace Mlops.Stream.Drift.Tests;

public sealed class DriftMethodChoiceTests
{
    [Fact]
    public void A_numerical_reference_of_1000_values_gets_kolmogorov_smirnov()
    {
        Assert.Equal(DriftMethod.KolmogorovSmirnov, DriftMethodChoice.For(References.Sampled(Samples.Reference), DriftOptions.Default));
    }

    [Fact]
    public void A_numerical_reference_of_1001_values_gets_wasserstein()
    {
        double[] reference = [.. Samples.Reference, 5.0];

        Assert.Equal(DriftMethod.Wasserstein, DriftMethodChoice.For(References.Sampled(reference), DriftOptions.Default));
    }

    [Fact]
    public void Non_finite_reference_values_do_not_count_towards_the_size()
    {
        // 1,004 values of which 1,000 are finite: still a small reference. (The profile comes from
        // the clean values: FeatureProfile.FromValues does not accept NaN.)
        var reference = new FeatureReference(Samples.ReferenceProfile, Samples.WithNonFinite(Samples.Reference));

        Assert.Equal(DriftMethod.KolmogorovSmirnov, DriftMethodChoice.For(reference, DriftOptions.Default));
    }

    [Fact]
    public void Five_distinct_values_are_categorical_and_six_are_numerical()
    {
        Assert.Equal(DriftMethod.JensenShannon, DriftMethodChoice.For(References.Sampled(References.Cycle(5, 500)), DriftOptions.Default));
        Assert.Equal(DriftMethod.KolmogorovSmirnov, DriftMethodChoice.For(References.Sampled(References.Cycle(6, 600)), DriftOptions.Default));
    }

    [Fact]
    public void A_categorical_reference_gets_jensen_shannon_at_any_size()
    {
        Assert.Equal(DriftMethod.JensenShannon, DriftMethodChoice.For(References.Sampled(References.Cycle(4, 5000)), DriftOptions.Default));
    }

    [Fact]
    public void An_override_replaces_the_automatic_choice_for_its_feature_only()
    {
        var options = DriftOptions.Default with
        {
            Methods = ImmutableDictionary<string, DriftMethod>.Empty.Add("x", DriftMethod.PopulationStabilityIndex),
        };

        Assert.Equal(DriftMethod.PopulationStabilityIndex, DriftMethodChoice.For(References.Sampled(Samples.Reference, "x"), options));
        Assert.Equal(DriftMethod.KolmogorovSmirnov, DriftMethodChoice.For(References.Sampled(Samples.Reference, "y"), options));
    }

    [Fact]
    public void Without_a_sample_every_feature_gets_psi_even_when_overridden()
    {
        var options = DriftOptions.Default with
        {
            Methods = ImmutableDictionary<string, DriftMethod>.Empty.Add("x", DriftMethod.KolmogorovSmirnov),
        };

        Assert.Equal(DriftMethod.PopulationStabilityIndex, DriftMethodChoice.For(References.ProfileOnly(Samples.Reference), options));
        Assert.Equal(DriftMethod.PopulationStabilityIndex, DriftMethodChoice.For(References.ProfileOnly(References.Cycle(4, 400)), DriftOptions.Default));
    }
}
