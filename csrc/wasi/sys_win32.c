/* wasi/sys_win32.c: sys.h on Windows.  With sys_posix.c the only file of csrc/wasi/ that
 * includes OS headers; it compiles to nothing elsewhere.
 *
 * Lookups are relative to directory HANDLEs, never by path string: NtCreateFile (from ntdll,
 * found at run time) with OBJECT_ATTRIBUTES.RootDirectory and one name component, and
 * FILE_OPEN_REPARSE_POINT so that a symbolic link or junction is opened itself, not followed
 * (then reported as WASI_ELOOP, and its text read with FSCTL_GET_REPARSE_POINT for path.c to
 * expand inside the sandbox).  A name holding '\' or ':' is refused (EINVAL): the first would
 * let the kernel walk several components, the second names an alternate data stream.  Renames
 * and hard links use NtSetInformationFile with a RootDirectory handle too, so they are as
 * race-free as on POSIX.
 *
 * Tested: compiled warning-free with mingw-w64 (tests/wasi/test_portability.py) and run under
 * Wine 8 (tests/wasi/test_wine.py, opt-in), never on a real Windows.  Known limits:
 *  - symlinkat builds the link's full path from GetFinalPathNameByHandleW of the directory
 *    (CreateSymbolicLinkW has no handle-relative form): if that directory is renamed in the
 *    instant between, the link is made where it went; links are created as file links
 *    (SYMBOLIC_LINK_FLAG_DIRECTORY is not guessed), and need Developer Mode or the privilege;
 *  - an absolute link target (or a junction) reads back as "/C:/..." so that path.c treats it
 *    as absolute (EPERM);
 *  - APPEND cannot be read back or changed after open (fdflags report 0; setting APPEND answers
 *    ENOTSUP); posix_fadvise has no equivalent (advice is accepted);
 *  - renaming a directory over an existing empty directory fails (Windows does not replace
 *    directories);
 *  - pread/pwrite move and restore the position (a synchronous handle has no positioned I/O
 *    that leaves it alone); a guest is single-threaded, so nothing sees the difference.
 * May call: the operating system (kernel32, ntdll, bcrypt), abi.h, the allocator. */
#if defined(_WIN32)

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <winternl.h>

#include "sys.h"

#include "abi.h"

/* ---- ntdll ------------------------------------------------------------------------------- */

typedef NTSTATUS(NTAPI *nt_create_file_fn)(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES,
                                           PIO_STATUS_BLOCK, PLARGE_INTEGER, ULONG, ULONG, ULONG,
                                           ULONG, PVOID, ULONG);
typedef NTSTATUS(NTAPI *nt_set_information_file_fn)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG,
                                                    FILE_INFORMATION_CLASS);

static nt_create_file_fn nt_create_file;
static nt_set_information_file_fn nt_set_information_file;
static INIT_ONCE ntdll_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK find_ntdll(PINIT_ONCE once, PVOID param, PVOID *context)
{
    (void)once, (void)param, (void)context;
    HMODULE h = GetModuleHandleW(L"ntdll.dll");
    FARPROC set = h ? GetProcAddress(h, "NtSetInformationFile") : NULL;
    FARPROC create = h ? GetProcAddress(h, "NtCreateFile") : NULL;
    if (set && create) {
        /* (function pointer casts through FARPROC are how GetProcAddress is used) */
        nt_set_information_file = (nt_set_information_file_fn)(void (*)(void))set;
        nt_create_file = (nt_create_file_fn)(void (*)(void))create;
    }
    return TRUE;
}

/* The two ntdll functions, looked up once (thread-safe). */
static bool ntdll(void)
{
    InitOnceExecuteOnce(&ntdll_once, find_ntdll, NULL, NULL);
    return nt_create_file != NULL;
}

/* constants from the DDK headers (not in every SDK) */
#define X_FILE_OPEN 1
#define X_FILE_CREATE 2
#define X_FILE_OPEN_IF 3
#define X_FILE_OVERWRITE 4
#define X_FILE_OVERWRITE_IF 5
#define X_FILE_DIRECTORY_FILE 0x00000001
#define X_FILE_SYNCHRONOUS_IO_NONALERT 0x00000020
#define X_FILE_NON_DIRECTORY_FILE 0x00000040
#define X_FILE_OPEN_FOR_BACKUP_INTENT 0x00004000
#define X_FILE_OPEN_REPARSE_POINT 0x00200000
#define X_FILE_RENAME_INFORMATION 10
#define X_FILE_LINK_INFORMATION 11
#define X_FSCTL_GET_REPARSE_POINT 0x000900a8
#define X_IO_REPARSE_TAG_SYMLINK 0xa000000cu
#define X_IO_REPARSE_TAG_MOUNT_POINT 0xa0000003u
#define X_SYMLINK_FLAG_RELATIVE 1
#define X_NAME_SURROGATE(tag) (((tag)&0x20000000u) != 0)

typedef struct {
    ULONG ReparseTag;
    USHORT ReparseDataLength;
    USHORT Reserved;
    USHORT SubstituteNameOffset;
    USHORT SubstituteNameLength;
    USHORT PrintNameOffset;
    USHORT PrintNameLength;
    union {
        struct {
            ULONG Flags;
            WCHAR PathBuffer[1];
        } symlink;
        struct {
            WCHAR PathBuffer[1];
        } mount_point;
    } u;
} reparse_data_t;

typedef struct {
    BOOLEAN ReplaceIfExists;
    HANDLE RootDirectory;
    ULONG FileNameLength;
    WCHAR FileName[1];
} link_information_t; /* FILE_RENAME_INFORMATION and FILE_LINK_INFORMATION */

/* ---- errors -------------------------------------------------------------------------------- */

static uint16_t win_errno(DWORD e)
{
    switch (e) {
    case ERROR_SUCCESS: return 0;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE: return WASI_ENOENT;
    case ERROR_ACCESS_DENIED: return WASI_EACCES;
    case ERROR_INVALID_HANDLE: return WASI_EBADF;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return WASI_ENOMEM;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_NEGATIVE_SEEK: return WASI_EINVAL;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS: return WASI_EEXIST;
    case ERROR_DIR_NOT_EMPTY: return WASI_ENOTEMPTY;
    case ERROR_DIRECTORY: return WASI_ENOTDIR;
    case ERROR_NOT_SAME_DEVICE: return WASI_EXDEV;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL: return WASI_ENOSPC;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA: return WASI_EPIPE;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_BUSY: return WASI_EBUSY;
    case ERROR_FILENAME_EXCED_RANGE: return WASI_ENAMETOOLONG;
    case ERROR_PRIVILEGE_NOT_HELD: return WASI_EPERM;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION: return WASI_ENOTSUP;
    case ERROR_CANT_RESOLVE_FILENAME: return WASI_ELOOP;
    case ERROR_NOT_A_REPARSE_POINT: return WASI_EINVAL;
    case ERROR_WRITE_PROTECT: return WASI_EROFS;
    default: return WASI_EIO;
    }
}

static uint16_t last_error(void)
{
    return win_errno(GetLastError());
}

static uint16_t nt_errno(NTSTATUS s)
{
    switch ((uint32_t)s) {
    case 0x00000000u: return 0;
    case 0xc0000034u: /* OBJECT_NAME_NOT_FOUND */
    case 0xc000003au: /* OBJECT_PATH_NOT_FOUND */
    case 0xc0000056u: /* DELETE_PENDING */ return WASI_ENOENT;
    case 0xc0000035u: return WASI_EEXIST;       /* OBJECT_NAME_COLLISION */
    case 0xc0000022u: return WASI_EACCES;       /* ACCESS_DENIED */
    case 0xc0000103u: return WASI_ENOTDIR;      /* NOT_A_DIRECTORY */
    case 0xc00000bau: return WASI_EISDIR;       /* FILE_IS_A_DIRECTORY */
    case 0xc0000101u: return WASI_ENOTEMPTY;    /* DIRECTORY_NOT_EMPTY */
    case 0xc0000043u: return WASI_EBUSY;        /* SHARING_VIOLATION */
    case 0xc0000033u: return WASI_EINVAL;       /* OBJECT_NAME_INVALID */
    case 0xc000000du: return WASI_EINVAL;       /* INVALID_PARAMETER */
    case 0xc0000106u: return WASI_ENAMETOOLONG; /* NAME_TOO_LONG */
    case 0xc0000121u: return WASI_EPERM;        /* CANNOT_DELETE */
    case 0xc00000d4u: return WASI_EXDEV;        /* NOT_SAME_DEVICE */
    case 0xc000007fu: return WASI_ENOSPC;       /* DISK_FULL */
    case 0xc0000017u:                           /* NO_MEMORY */
    case 0xc000009au: return WASI_ENOMEM;       /* INSUFFICIENT_RESOURCES */
    case 0xc00000bbu: return WASI_ENOTSUP;      /* NOT_SUPPORTED */
    case 0x8000002du: return WASI_ELOOP;        /* STOPPED_ON_SYMLINK */
    case 0xc0000008u: return WASI_EBADF;        /* INVALID_HANDLE */
    case 0xc00000a2u: return WASI_EROFS;        /* MEDIA_WRITE_PROTECTED */
    default: return WASI_EIO;
    }
}

/* ---- names ----------------------------------------------------------------------------------- */

/* UTF-8 component -> UTF-16 (".": the directory itself, an empty name).  Returns its length in
 * WCHARs, or -1 with *err set. */
static int wide_name(const char *name, WCHAR *out, int cap, uint16_t *err)
{
    if (strchr(name, '\\') || strchr(name, ':')) {
        *err = WASI_EINVAL;
        return -1;
    }
    if (strcmp(name, ".") == 0)
        return 0;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, out, cap);
    if (n <= 0) {
        *err = GetLastError() == ERROR_INSUFFICIENT_BUFFER ? WASI_ENAMETOOLONG : WASI_EILSEQ;
        return -1;
    }
    return n - 1;
}

/* NtCreateFile of one component relative to `dir`. */
static uint16_t open_rel(exn_sys_fd_t dir, const char *name, ACCESS_MASK access, ULONG disposition,
                         ULONG options, HANDLE *out)
{
    WCHAR wname[512];
    uint16_t err = 0;
    int n = wide_name(name, wname, 512, &err);
    if (n < 0)
        return err;
    if (!ntdll())
        return WASI_ENOSYS;
    UNICODE_STRING us = {(USHORT)(n * 2), (USHORT)(n * 2), wname};
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &us, OBJ_CASE_INSENSITIVE, (HANDLE)dir, NULL);
    IO_STATUS_BLOCK io;
    NTSTATUS s = nt_create_file(out, access | SYNCHRONIZE, &oa, &io, NULL, FILE_ATTRIBUTE_NORMAL,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, disposition,
                                options | X_FILE_SYNCHRONOUS_IO_NONALERT |
                                    X_FILE_OPEN_FOR_BACKUP_INTENT | X_FILE_OPEN_REPARSE_POINT,
                                NULL, 0);
    return nt_errno(s);
}

/* Is the open file a symbolic link or junction (a name-surrogate reparse point)? */
static bool is_link(HANDLE h)
{
    FILE_ATTRIBUTE_TAG_INFO tag;
    return GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag) &&
           (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) && X_NAME_SURROGATE(tag.ReparseTag);
}

static uint64_t ns_of(FILETIME ft)
{
    uint64_t t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
    const uint64_t epoch = 116444736000000000ull; /* 1601 -> 1970, in 100 ns */
    return t < epoch ? 0 : (t - epoch) * 100;
}

static LARGE_INTEGER filetime_of(uint64_t ns)
{
    LARGE_INTEGER li;
    li.QuadPart = (LONGLONG)(ns / 100 + 116444736000000000ull);
    return li;
}

static uint16_t stat_handle(HANDLE h, exn_sys_stat_t *out)
{
    BY_HANDLE_FILE_INFORMATION info;
    memset(out, 0, sizeof *out);
    DWORD type = GetFileType(h);
    if (type == FILE_TYPE_CHAR) {
        out->filetype = WASI_FILETYPE_CHARACTER_DEVICE;
        return 0;
    }
    if (type == FILE_TYPE_PIPE) {
        out->filetype = WASI_FILETYPE_UNKNOWN;
        return 0;
    }
    if (!GetFileInformationByHandle(h, &info))
        return last_error();
    out->dev = info.dwVolumeSerialNumber;
    out->ino = (uint64_t)info.nFileIndexHigh << 32 | info.nFileIndexLow;
    out->nlink = info.nNumberOfLinks;
    out->size = (uint64_t)info.nFileSizeHigh << 32 | info.nFileSizeLow;
    out->atim = ns_of(info.ftLastAccessTime);
    out->mtim = ns_of(info.ftLastWriteTime);
    out->ctim = ns_of(info.ftLastWriteTime); /* (no inode change time: the last write) */
    if (is_link(h))
        out->filetype = WASI_FILETYPE_SYMBOLIC_LINK;
    else if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
        out->filetype = WASI_FILETYPE_DIRECTORY;
    else
        out->filetype = WASI_FILETYPE_REGULAR_FILE;
    return 0;
}

/* ---- mounts ------------------------------------------------------------------------------ */

static WCHAR *wide_path(const char *path)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    WCHAR *w = exn_malloc((size_t)n * sizeof *w);
    if (w)
        MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n);
    return w;
}

static HANDLE open_dir_path(const WCHAR *path)
{
    return CreateFileW(path,
                       FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                       FILE_FLAG_BACKUP_SEMANTICS, NULL);
}

uint16_t exn_sys_open_mount(const char *host_path, exn_sys_fd_t *out_dir, char **out_file)
{
    *out_dir = EXN_SYS_NOFD;
    *out_file = NULL;
    WCHAR *w = wide_path(host_path);
    if (!w)
        return WASI_EINVAL;
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    exn_free(w);
    if (h == INVALID_HANDLE_VALUE)
        return last_error();
    BY_HANDLE_FILE_INFORMATION info;
    uint16_t err = 0;
    WCHAR *full = exn_malloc(32768 * sizeof *full);
    if (!full) {
        CloseHandle(h);
        return WASI_ENOMEM;
    }
    if (!GetFileInformationByHandle(h, &info) ||
        !GetFinalPathNameByHandleW(h, full, 32768, FILE_NAME_NORMALIZED)) {
        err = last_error();
        CloseHandle(h);
        exn_free(full);
        return err;
    }
    CloseHandle(h);
    char name[1024];
    if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        name[0] = '\0';
    } else {
        /* a file: the directory holding it (its final, link-free path), and its name there */
        WCHAR *slash = wcsrchr(full, L'\\');
        if (!slash ||
            !WideCharToMultiByte(CP_UTF8, 0, slash + 1, -1, name, sizeof name, NULL, NULL)) {
            exn_free(full);
            return WASI_ENAMETOOLONG;
        }
        slash[1] = L'\0'; /* keep the separator: "\\?\C:\" stays a directory */
    }
    HANDLE d = open_dir_path(full);
    exn_free(full);
    if (d == INVALID_HANDLE_VALUE)
        return last_error();
    if (name[0] && !(*out_file = exn_strndup(name, strlen(name)))) {
        CloseHandle(d);
        return WASI_ENOMEM;
    }
    *out_dir = (exn_sys_fd_t)d;
    return 0;
}

/* ---- names in a directory ----------------------------------------------------------------- */

uint16_t exn_sys_openat(exn_sys_fd_t dir, const char *name, const exn_sys_open_t *how,
                        exn_sys_fd_t *out_fd, uint8_t *out_type)
{
    ACCESS_MASK access = FILE_READ_ATTRIBUTES;
    if (how->read)
        access |= FILE_GENERIC_READ | (how->directory ? FILE_LIST_DIRECTORY | FILE_TRAVERSE : 0);
    if (how->write)
        access |= (how->fdflags & WASI_FDFLAG_APPEND)
                      ? (FILE_APPEND_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA)
                      : FILE_GENERIC_WRITE;
    ULONG disposition = how->creat && how->excl    ? X_FILE_CREATE
                        : how->creat && how->trunc ? X_FILE_OVERWRITE_IF
                        : how->creat               ? X_FILE_OPEN_IF
                        : how->trunc               ? X_FILE_OVERWRITE
                                                   : X_FILE_OPEN;
    ULONG options = how->directory ? X_FILE_DIRECTORY_FILE : 0;
    if (how->write && !how->directory)
        options |= X_FILE_NON_DIRECTORY_FILE; /* (writing a directory: EISDIR, as POSIX) */
    HANDLE h;
    uint16_t err = open_rel(dir, name, access, disposition, options, &h);
    if (err == WASI_EACCES && how->write) {
        /* a directory opened for writing */
        HANDLE probe;
        if (open_rel(dir, name, FILE_READ_ATTRIBUTES, X_FILE_OPEN, X_FILE_DIRECTORY_FILE, &probe) ==
            0) {
            CloseHandle(probe);
            return WASI_EISDIR;
        }
    }
    if (err)
        return err;
    if (is_link(h)) {
        CloseHandle(h);
        return WASI_ELOOP;
    }
    exn_sys_stat_t st;
    if ((err = stat_handle(h, &st)) != 0) {
        CloseHandle(h);
        return err;
    }
    if (how->directory && st.filetype != WASI_FILETYPE_DIRECTORY) {
        CloseHandle(h);
        return WASI_ENOTDIR;
    }
    *out_fd = (exn_sys_fd_t)h;
    *out_type = st.filetype;
    return 0;
}

uint16_t exn_sys_opendirat(exn_sys_fd_t dir, const char *name, exn_sys_fd_t *out_fd)
{
    HANDLE h;
    uint16_t err = open_rel(dir, name, FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES,
                            X_FILE_OPEN, 0, &h);
    if (err)
        return err;
    exn_sys_stat_t st;
    if (is_link(h))
        err = WASI_ELOOP;
    else if ((err = stat_handle(h, &st)) == 0 && st.filetype != WASI_FILETYPE_DIRECTORY)
        err = WASI_ENOTDIR;
    if (err) {
        CloseHandle(h);
        return err;
    }
    *out_fd = (exn_sys_fd_t)h;
    return 0;
}

uint16_t exn_sys_readlinkat(exn_sys_fd_t dir, const char *name, char *buf, size_t buf_len,
                            size_t *out_len)
{
    HANDLE h;
    uint16_t err = open_rel(dir, name, FILE_READ_ATTRIBUTES, X_FILE_OPEN, 0, &h);
    if (err)
        return err;
    union {
        reparse_data_t r;
        uint8_t bytes[16 * 1024];
    } data;
    DWORD got = 0;
    BOOL ok =
        DeviceIoControl(h, X_FSCTL_GET_REPARSE_POINT, NULL, 0, &data, sizeof data, &got, NULL);
    err = ok ? 0 : last_error();
    CloseHandle(h);
    if (err)
        return err;
    const WCHAR *text;
    size_t chars;
    bool absolute;
    if (data.r.ReparseTag == X_IO_REPARSE_TAG_SYMLINK) {
        text = data.r.u.symlink.PathBuffer + data.r.PrintNameOffset / 2;
        chars = data.r.PrintNameLength / 2;
        absolute = !(data.r.u.symlink.Flags & X_SYMLINK_FLAG_RELATIVE);
    } else if (data.r.ReparseTag == X_IO_REPARSE_TAG_MOUNT_POINT) {
        text = data.r.u.mount_point.PathBuffer + data.r.PrintNameOffset / 2;
        chars = data.r.PrintNameLength / 2;
        absolute = true;
    } else {
        return WASI_EINVAL;
    }
    size_t at = 0;
    if (absolute && buf_len)
        buf[at++] = '/'; /* "/C:/...": absolute to path.c */
    int n = chars ? WideCharToMultiByte(CP_UTF8, 0, text, (int)chars, buf + at, (int)(buf_len - at),
                                        NULL, NULL)
                  : 0;
    if (chars && n <= 0)
        return WASI_ENAMETOOLONG;
    at += (size_t)n;
    if (at >= buf_len)
        return WASI_ENAMETOOLONG;
    for (size_t i = 0; i < at; i++) {
        if (buf[i] == '\\')
            buf[i] = '/';
    }
    *out_len = at;
    return 0;
}

uint16_t exn_sys_statat(exn_sys_fd_t dir, const char *name, exn_sys_stat_t *out)
{
    HANDLE h;
    uint16_t err = open_rel(dir, name, FILE_READ_ATTRIBUTES, X_FILE_OPEN, 0, &h);
    if (err)
        return err;
    err = stat_handle(h, out);
    CloseHandle(h);
    return err;
}

uint16_t exn_sys_mkdirat(exn_sys_fd_t dir, const char *name)
{
    HANDLE h;
    uint16_t err =
        open_rel(dir, name, FILE_LIST_DIRECTORY, X_FILE_CREATE, X_FILE_DIRECTORY_FILE, &h);
    if (!err)
        CloseHandle(h);
    return err;
}

uint16_t exn_sys_unlinkat(exn_sys_fd_t dir, const char *name, bool directory)
{
    HANDLE h;
    uint16_t err = open_rel(dir, name, DELETE | FILE_READ_ATTRIBUTES, X_FILE_OPEN, 0, &h);
    if (err)
        return err;
    exn_sys_stat_t st;
    if ((err = stat_handle(h, &st)) == 0) {
        bool is_dir = st.filetype == WASI_FILETYPE_DIRECTORY;
        if (directory && !is_dir)
            err = WASI_ENOTDIR;
        else if (!directory && is_dir)
            err = WASI_EISDIR;
    }
    if (!err) {
        FILE_DISPOSITION_INFO del = {TRUE};
        if (!SetFileInformationByHandle(h, FileDispositionInfo, &del, sizeof del))
            err = last_error();
    }
    CloseHandle(h);
    return err;
}

/* rename or hard link `from` to (to_dir, to), by handle */
static uint16_t move_or_link(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                             const char *to, bool link)
{
    union {
        link_information_t info;
        uint8_t bytes[sizeof(link_information_t) + 1024];
    } u;
    uint16_t err = 0;
    int n = wide_name(to, u.info.FileName, 500, &err);
    if (n < 0)
        return err;
    if (n == 0)
        return WASI_EINVAL;
    HANDLE h;
    if ((err = open_rel(from_dir, from, (link ? 0 : DELETE) | FILE_READ_ATTRIBUTES, X_FILE_OPEN, 0,
                        &h)) != 0)
        return err;
    u.info.ReplaceIfExists = link ? FALSE : TRUE;
    u.info.RootDirectory = (HANDLE)to_dir;
    u.info.FileNameLength = (ULONG)(n * 2);
    IO_STATUS_BLOCK io;
    NTSTATUS s = nt_set_information_file(
        h, &io, &u.info, (ULONG)(sizeof u.info + (size_t)n * 2),
        (FILE_INFORMATION_CLASS)(link ? X_FILE_LINK_INFORMATION : X_FILE_RENAME_INFORMATION));
    CloseHandle(h);
    return nt_errno(s);
}

uint16_t exn_sys_renameat(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                          const char *to)
{
    return move_or_link(from_dir, from, to_dir, to, false);
}

uint16_t exn_sys_linkat(exn_sys_fd_t from_dir, const char *from, exn_sys_fd_t to_dir,
                        const char *to)
{
    return move_or_link(from_dir, from, to_dir, to, true);
}

uint16_t exn_sys_symlinkat(const char *target, exn_sys_fd_t dir, const char *name)
{
    WCHAR wname[512];
    uint16_t err = 0;
    int n = wide_name(name, wname, 512, &err);
    if (n < 0)
        return err;
    if (n == 0)
        return WASI_EEXIST;
    WCHAR *wtarget = wide_path(target);
    WCHAR *full = exn_malloc((32768 + 512) * sizeof *full);
    if (!wtarget || !full) {
        exn_free(wtarget);
        exn_free(full);
        return wtarget ? WASI_ENOMEM : WASI_EILSEQ;
    }
    for (WCHAR *c = wtarget; *c; c++) {
        if (*c == L'/')
            *c = L'\\';
    }
    DWORD len = GetFinalPathNameByHandleW((HANDLE)dir, full, 32768, FILE_NAME_NORMALIZED);
    if (!len || len >= 32768) {
        err = len ? WASI_ENAMETOOLONG : last_error();
    } else {
        full[len] = L'\\';
        memcpy(full + len + 1, wname, ((size_t)n + 1) * sizeof(WCHAR));
        BOOL ok = CreateSymbolicLinkW(full, wtarget, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE);
        err = ok ? 0 : last_error();
    }
    exn_free(wtarget);
    exn_free(full);
    return err;
}

static uint16_t set_times(HANDLE h, uint64_t atim, uint64_t mtim, uint16_t fst)
{
    FILE_BASIC_INFO info;
    if (!GetFileInformationByHandleEx(h, FileBasicInfo, &info, sizeof info))
        return last_error();
    FILETIME now_ft;
    GetSystemTimeAsFileTime(&now_ft);
    LARGE_INTEGER now;
    now.LowPart = now_ft.dwLowDateTime;
    now.HighPart = (LONG)now_ft.dwHighDateTime;
    info.CreationTime.QuadPart = 0; /* 0: leave alone */
    info.ChangeTime.QuadPart = 0;
    info.LastAccessTime.QuadPart = 0;
    info.LastWriteTime.QuadPart = 0;
    if (fst & WASI_FST_ATIM_NOW)
        info.LastAccessTime = now;
    else if (fst & WASI_FST_ATIM)
        info.LastAccessTime = filetime_of(atim);
    if (fst & WASI_FST_MTIM_NOW)
        info.LastWriteTime = now;
    else if (fst & WASI_FST_MTIM)
        info.LastWriteTime = filetime_of(mtim);
    return SetFileInformationByHandle(h, FileBasicInfo, &info, sizeof info) ? 0 : last_error();
}

uint16_t exn_sys_utimesat(exn_sys_fd_t dir, const char *name, uint64_t atim, uint64_t mtim,
                          uint16_t fst_flags)
{
    HANDLE h;
    uint16_t err =
        open_rel(dir, name, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, X_FILE_OPEN, 0, &h);
    if (err)
        return err;
    err = set_times(h, atim, mtim, fst_flags);
    CloseHandle(h);
    return err;
}

/* ---- open handles --------------------------------------------------------------------------- */

void exn_sys_close(exn_sys_fd_t fd)
{
    if (fd != EXN_SYS_NOFD)
        CloseHandle((HANDLE)fd);
}

uint16_t exn_sys_fstat(exn_sys_fd_t fd, exn_sys_stat_t *out)
{
    return stat_handle((HANDLE)fd, out);
}

static uint16_t transfer(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, bool write,
                         uint64_t *out_n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n_iov; i++) {
        size_t left = iov[i].len;
        uint8_t *p = iov[i].base;
        while (left) {
            DWORD chunk = left > 0x40000000u ? 0x40000000u : (DWORD)left, done = 0;
            BOOL ok = write ? WriteFile((HANDLE)fd, p, chunk, &done, NULL)
                            : ReadFile((HANDLE)fd, p, chunk, &done, NULL);
            if (!ok) {
                DWORD e = GetLastError();
                if (!write && (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE))
                    break;
                if (total)
                    break;
                return win_errno(e);
            }
            total += done;
            if (done < chunk) {
                *out_n = total;
                return 0; /* a short transfer ends the call, as readv would */
            }
            p += done;
            left -= done;
        }
    }
    *out_n = total;
    return 0;
}

uint16_t exn_sys_read(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t *out_n)
{
    return transfer(fd, iov, n_iov, false, out_n);
}

uint16_t exn_sys_write(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t *out_n)
{
    return transfer(fd, iov, n_iov, true, out_n);
}

static uint16_t positioned(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t offset,
                           bool write, uint64_t *out_n)
{
    if (offset > (uint64_t)INT64_MAX)
        return WASI_EINVAL;
    LARGE_INTEGER zero = {0}, saved, at;
    if (!SetFilePointerEx((HANDLE)fd, zero, &saved, FILE_CURRENT))
        return last_error();
    at.QuadPart = (LONGLONG)offset;
    if (!SetFilePointerEx((HANDLE)fd, at, NULL, FILE_BEGIN))
        return last_error();
    uint16_t err = transfer(fd, iov, n_iov, write, out_n);
    SetFilePointerEx((HANDLE)fd, saved, NULL, FILE_BEGIN);
    return err;
}

uint16_t exn_sys_pread(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t offset,
                       uint64_t *out_n)
{
    return positioned(fd, iov, n_iov, offset, false, out_n);
}

uint16_t exn_sys_pwrite(exn_sys_fd_t fd, const exn_sys_iov_t *iov, size_t n_iov, uint64_t offset,
                        uint64_t *out_n)
{
    return positioned(fd, iov, n_iov, offset, true, out_n);
}

uint16_t exn_sys_seek(exn_sys_fd_t fd, int64_t offset, int whence, uint64_t *out_pos)
{
    LARGE_INTEGER by, pos;
    by.QuadPart = offset;
    DWORD method = whence == WASI_WHENCE_SET   ? FILE_BEGIN
                   : whence == WASI_WHENCE_CUR ? FILE_CURRENT
                                               : FILE_END;
    if (!SetFilePointerEx((HANDLE)fd, by, &pos, method))
        return last_error();
    *out_pos = (uint64_t)pos.QuadPart;
    return 0;
}

uint16_t exn_sys_sync(exn_sys_fd_t fd, bool data_only)
{
    (void)data_only;
    return FlushFileBuffers((HANDLE)fd) ? 0 : last_error();
}

uint16_t exn_sys_advise(exn_sys_fd_t fd, uint64_t offset, uint64_t len, int advice)
{
    (void)offset, (void)len, (void)advice; /* a hint: accepted on a valid handle */
    return GetFileType((HANDLE)fd) != FILE_TYPE_UNKNOWN || GetLastError() == NO_ERROR
               ? 0
               : last_error();
}

uint16_t exn_sys_allocate(exn_sys_fd_t fd, uint64_t offset, uint64_t len)
{
    if (offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - offset)
        return WASI_EFBIG;
    LARGE_INTEGER size;
    if (!GetFileSizeEx((HANDLE)fd, &size))
        return last_error();
    if ((uint64_t)size.QuadPart >= offset + len)
        return 0;
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)(offset + len);
    return SetFileInformationByHandle((HANDLE)fd, FileEndOfFileInfo, &eof, sizeof eof)
               ? 0
               : last_error();
}

uint16_t exn_sys_truncate(exn_sys_fd_t fd, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return WASI_EFBIG;
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)size;
    return SetFileInformationByHandle((HANDLE)fd, FileEndOfFileInfo, &eof, sizeof eof)
               ? 0
               : last_error();
}

uint16_t exn_sys_futimes(exn_sys_fd_t fd, uint64_t atim, uint64_t mtim, uint16_t fst_flags)
{
    return set_times((HANDLE)fd, atim, mtim, fst_flags);
}

uint16_t exn_sys_get_fdflags(exn_sys_fd_t fd, uint16_t *out_flags)
{
    (void)fd;
    *out_flags = 0;
    return 0;
}

uint16_t exn_sys_set_fdflags(exn_sys_fd_t fd, uint16_t flags)
{
    (void)fd;
    return flags ? WASI_ENOTSUP : 0;
}

uint16_t exn_sys_readdir(exn_sys_fd_t fd, exn_sys_dirent_fn fn, void *userdata)
{
    static const size_t cap = 64 * 1024;
    uint8_t *buf = exn_malloc(cap);
    if (!buf)
        return WASI_ENOMEM;
    uint16_t result = 0;
    FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
    for (;;) {
        if (!GetFileInformationByHandleEx((HANDLE)fd, cls, buf, (DWORD)cap)) {
            DWORD e = GetLastError();
            if (e != ERROR_NO_MORE_FILES)
                result = win_errno(e);
            break;
        }
        cls = FileIdBothDirectoryInfo;
        for (size_t at = 0;;) {
            const FILE_ID_BOTH_DIR_INFO *d = (const FILE_ID_BOTH_DIR_INFO *)(buf + at);
            char name[1024];
            int n = WideCharToMultiByte(CP_UTF8, 0, d->FileName, (int)(d->FileNameLength / 2), name,
                                        sizeof name - 1, NULL, NULL);
            if (n > 0 && !(n == 1 && name[0] == '.') &&
                !(n == 2 && name[0] == '.' && name[1] == '.')) {
                uint8_t type = WASI_FILETYPE_REGULAR_FILE;
                if ((d->FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
                    X_NAME_SURROGATE((uint32_t)d->EaSize)) /* (EaSize holds the tag) */
                    type = WASI_FILETYPE_SYMBOLIC_LINK;
                else if (d->FileAttributes & FILE_ATTRIBUTE_DIRECTORY)
                    type = WASI_FILETYPE_DIRECTORY;
                name[n] = '\0';
                if ((result = fn(userdata, name, (size_t)n, (uint64_t)d->FileId.QuadPart, type)) !=
                    0)
                    goto done;
            }
            if (!d->NextEntryOffset)
                break;
            at += d->NextEntryOffset;
        }
    }
done:
    exn_free(buf);
    return result;
}

/* ---- the process --------------------------------------------------------------------------- */

static uint64_t ticks_ns(uint64_t ticks, uint64_t freq)
{
    return ticks / freq * 1000000000u + ticks % freq * 1000000000u / freq;
}

uint16_t exn_sys_clock_time(uint32_t clock, uint64_t *out_ns)
{
    FILETIME a, b, kernel, user;
    switch (clock) {
    case WASI_CLOCK_REALTIME:
        GetSystemTimePreciseAsFileTime(&a);
        *out_ns = ns_of(a);
        return 0;
    case WASI_CLOCK_MONOTONIC: {
        LARGE_INTEGER t, f;
        QueryPerformanceCounter(&t);
        QueryPerformanceFrequency(&f);
        *out_ns = ticks_ns((uint64_t)t.QuadPart, (uint64_t)f.QuadPart);
        return 0;
    }
    case WASI_CLOCK_PROCESS_CPUTIME:
    case WASI_CLOCK_THREAD_CPUTIME: {
        BOOL ok = clock == WASI_CLOCK_PROCESS_CPUTIME
                      ? GetProcessTimes(GetCurrentProcess(), &a, &b, &kernel, &user)
                      : GetThreadTimes(GetCurrentThread(), &a, &b, &kernel, &user);
        if (!ok)
            return last_error();
        uint64_t k = (uint64_t)kernel.dwHighDateTime << 32 | kernel.dwLowDateTime;
        uint64_t u = (uint64_t)user.dwHighDateTime << 32 | user.dwLowDateTime;
        *out_ns = (k + u) * 100;
        return 0;
    }
    default: return WASI_EINVAL;
    }
}

uint16_t exn_sys_clock_res(uint32_t clock, uint64_t *out_ns)
{
    switch (clock) {
    case WASI_CLOCK_MONOTONIC: {
        LARGE_INTEGER f;
        QueryPerformanceFrequency(&f);
        *out_ns = f.QuadPart >= 1000000000 ? 1 : 1000000000u / (uint64_t)f.QuadPart;
        return 0;
    }
    case WASI_CLOCK_REALTIME:
    case WASI_CLOCK_PROCESS_CPUTIME:
    case WASI_CLOCK_THREAD_CPUTIME: *out_ns = 100; return 0;
    default: return WASI_EINVAL;
    }
}

void exn_sys_sleep(uint64_t ns)
{
    Sleep((DWORD)((ns + 999999u) / 1000000u));
}

void exn_sys_yield(void)
{
    SwitchToThread();
}

uint16_t exn_sys_stdio_write(int fd, const void *data, size_t len)
{
    HANDLE h = GetStdHandle(fd == 2 ? STD_ERROR_HANDLE : STD_OUTPUT_HANDLE);
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return WASI_EBADF;
    const uint8_t *p = data;
    while (len) {
        DWORD chunk = len > 0x40000000u ? 0x40000000u : (DWORD)len, done = 0;
        if (!WriteFile(h, p, chunk, &done, NULL))
            return last_error();
        p += done;
        len -= done;
    }
    return 0;
}

#endif /* _WIN32 */
