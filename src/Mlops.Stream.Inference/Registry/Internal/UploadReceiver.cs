using System.Buffers;
using System.Security.Cryptography;

namespace Mlops.Stream.Inference.Registry.Internal;

/// <summary>
/// Streams a model upload into a temporary file of the registry, hashing it on the way and
/// refusing it once it passes the cap, so no model is ever held in memory whole.
/// </summary>
internal static class UploadReceiver
{
    public const int BufferBytes = 81920;

    public static async Task<ModelUpload> ReceiveAsync(string root, System.IO.Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        // In the registry's own folder, so the final move into a version is a rename on one file
        // system; a dot-file, so listings never take it for a model.
        Directory.CreateDirectory(root);
        var path = Path.Combine(root, $".upload-{Guid.NewGuid():N}.tmp");
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            // Unbuffered (bufferSize 0): the chunks are ours already, and what arrived is on disk, not held back.
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                    if (length > maxBytes)
                    {
                        throw new ModelRegistryException(
                            ModelRegistryError.TooLarge, $"the upload is larger than {maxBytes} bytes, the most a model upload may hold");
                    }

                    sha256.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                file.Flush(flushToDisk: true);
            }

            return new ModelUpload(path, length, Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }
        catch
        {
            AtomicFile.TryDelete(path);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
