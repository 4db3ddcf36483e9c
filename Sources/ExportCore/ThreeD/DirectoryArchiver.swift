/// Packs a staged directory into one file (domain 3D's zip, issue #13). A seam: the domain decides what goes in,
/// an adapter (``ZipPackaging``'s, on ZIPFoundation) writes the archive.
public protocol DirectoryArchiver: Sendable {
    /// Writes every file under `directory`, by its path relative to it, into an archive at `path`. Blocking.
    func archive(directory: String, to path: String) throws
}
