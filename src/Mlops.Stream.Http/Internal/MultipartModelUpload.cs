using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http.Internal;

/// <summary>
/// Reads a <c>multipart/form-data</c> model upload part by part, in whatever order the parts come:
/// the <c>file</c> part streams through <c>receive</c> into the registry's temporary file (never
/// into memory: <c>ReadFormAsync</c> would buffer it), the <c>manifest</c> part (JSON, a file or a
/// field) and the <c>reference</c> part (CSV, see <see cref="ReferenceSample"/>) are read into
/// memory up to a cap each. Other parts are skipped.
/// </summary>
internal static class MultipartModelUpload
{
    /// <exception cref="BadHttpRequestException">413 when the manifest part is larger than <paramref name="maxManifestBytes"/>; 400 without a boundary.</exception>
    /// <exception cref="ReferenceSampleException">The reference part is larger than <see cref="ReferenceSample.MaxBytes"/>.</exception>
    public static async Task<(ModelUpload? File, byte[]? Manifest, byte[]? Reference)> ReadAsync(
        HttpRequest request, Func<System.IO.Stream, Task<ModelUpload>> receive, long maxManifestBytes, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
            throw new BadHttpRequestException("a multipart upload needs a boundary in its Content-Type", StatusCodes.Status400BadRequest);
        var reader = new MultipartReader(boundary, request.Body);
        ModelUpload? file = null;
        byte[]? manifest = null;
        byte[]? reference = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "file" && file is null) file = await receive(section.Body).ConfigureAwait(false);
                else if (name == "manifest" && manifest is null)
                    manifest = await ReadPartAsync(section.Body, maxManifestBytes, () => new BadHttpRequestException(
                        $"the manifest part is larger than {maxManifestBytes} bytes", StatusCodes.Status413PayloadTooLarge), cancellationToken).ConfigureAwait(false);
                else if (name == "reference" && reference is null)
                    reference = await ReadPartAsync(section.Body, ReferenceSample.MaxBytes, () => new ReferenceSampleException(
                        $"the reference CSV is larger than {ReferenceSample.MaxBytes} bytes"), cancellationToken).ConfigureAwait(false);
                // Anything else is drained by the reader on its way to the next part.
            }
            return (file, manifest, reference);
        }
        catch
        {
            file?.Dispose();
            throw;
        }
    }

    private static async Task<byte[]> ReadPartAsync(System.IO.Stream body, long maxBytes, Func<Exception> tooLarge, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw tooLarge();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
