"""core/v1: Volume and every volume source a pod can declare.

Most in-tree sources (awsElasticBlockStore, cinder, ...) are deprecated upstream and
not run by minik8s's kubelet, but they are declared so that manifests using them
decode, validate and print in `kubectl explain` as on Kubernetes.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common

HOST_PATH_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.HostPathVolumeSource",
    "A file or directory of the node, mounted into the pod; for system agents, since it exposes the host.",
    (
        dsl.Field("path", 1, dsl.STRING, "The path on the node; symbolic links are followed.", required=True),
        dsl.Field("type", 2, dsl.STRING, "What must be at the path: \"\" (no check), DirectoryOrCreate, Directory, "
                  "FileOrCreate, File, Socket, CharDevice or BlockDevice.", pointer=True,
                  enum=("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                        "BlockDevice")),
    ),
)


EMPTY_DIR_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EmptyDirVolumeSource",
    "A directory that starts empty when the pod starts on a node and is deleted with the pod.",
    (
        dsl.Field("medium", 1, dsl.STRING, "The storage backing it: \"\" for the node's disk, Memory for tmpfs, or a "
                  "huge page size."),
        dsl.Field("sizeLimit", 2, dsl.QUANTITY, "The most storage the directory may use (memory counts against the "
                  "pod for Memory); the pod is evicted past it.", pointer=True),
        dsl.Field("mode", 3, dsl.INT32, "The directory's permission bits, such as 0755 or 01777 (0 to 01777).",
                  pointer=True),
    ),
)


GCE_PERSISTENT_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
    "A Google Compute Engine persistent disk (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("pdName", 1, dsl.STRING, "The disk's name in GCE.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("partition", 3, dsl.INT32, "The partition to mount (1 for /dev/sda1); 0 or unset mounts the whole "
                  "device."),
        dsl.Field("readOnly", 4, dsl.BOOL, "Mount the disk read-only. Defaults to false."),
    ),
)


AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
    "An Amazon EBS volume (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("volumeID", 1, dsl.STRING, "The EBS volume's ID.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("partition", 3, dsl.INT32, "The partition to mount (1 for /dev/sda1); 0 or unset mounts the whole "
                  "device."),
        dsl.Field("readOnly", 4, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
    ),
)


GIT_REPO_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.GitRepoVolumeSource",
    "A directory filled with a clone of a git repository (deprecated: clone in an init container instead).",
    (
        dsl.Field("repository", 1, dsl.STRING, "The repository's URL.", required=True),
        dsl.Field("revision", 2, dsl.STRING, "The commit to check out."),
        dsl.Field("directory", 3, dsl.STRING, "The directory to clone into, inside the volume; '.' clones into the "
                  "volume's root. Must not contain '..'."),
    ),
)


SECRET_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.SecretVolumeSource",
    "A Secret's keys, each as a file in the volume.",
    (
        dsl.Field("secretName", 1, dsl.STRING, "The Secret's name, in the pod's namespace."),
        dsl.Field("items", 2, common.KEY_TO_PATH, "Which keys to project and where; unset projects every key as a "
                  "file of its own name.", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 3, dsl.INT32, "Permission bits of the files (0 to 0777). Defaults to 0644.",
                  pointer=True),
        dsl.Field("optional", 4, dsl.BOOL, "When true, a missing Secret or key is not an error.", pointer=True),
        dsl.Field("defaultUser", 5, dsl.INT64, "The UID that owns the files, unless an item sets its own (alpha).",
                  pointer=True),
    ),
)


NFS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.NFSVolumeSource",
    "An NFS export mounted for the pod's lifetime.",
    (
        dsl.Field("server", 1, dsl.STRING, "The NFS server's host name or IP address.", required=True),
        dsl.Field("path", 2, dsl.STRING, "The exported path.", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "Mount the export read-only. Defaults to false."),
    ),
)


ISCSI_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ISCSIVolumeSource",
    "An iSCSI disk, attachable read/write by one node at a time.",
    (
        dsl.Field("targetPortal", 1, dsl.STRING, "The target portal: an IP, or IP:port when the port is not the "
                  "default 3260.", required=True),
        dsl.Field("iqn", 2, dsl.STRING, "The target's iSCSI Qualified Name.", required=True),
        dsl.Field("lun", 3, dsl.INT32, "The target's logical unit number.", required=True),
        dsl.Field("iscsiInterface", 4, dsl.STRING, "The iSCSI interface to use. Defaults to default (TCP)."),
        dsl.Field("fsType", 5, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("readOnly", 6, dsl.BOOL, "Mount the disk read-only. Defaults to false."),
        dsl.Field("portals", 7, dsl.STRING, "More target portals, each an IP or IP:port.", repeated=True,
                  list_type="atomic"),
        dsl.Field("chapAuthDiscovery", 8, dsl.BOOL, "Use CHAP authentication for discovery."),
        dsl.Field("chapAuthSession", 11, dsl.BOOL, "Use CHAP authentication for sessions."),
        dsl.Field("secretRef", 10, common.LOCAL_OBJECT_REFERENCE, "The Secret holding the CHAP credentials.",
                  pointer=True),
        dsl.Field("initiatorName", 12, dsl.STRING, "A custom initiator name; creates the interface <portal>:<volume "
                  "name>.", pointer=True),
    ),
)


GLUSTERFS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.GlusterfsVolumeSource",
    "A GlusterFS volume (deprecated, no longer supported).",
    (
        dsl.Field("endpoints", 1, dsl.STRING, "The Endpoints object listing the Gluster servers.", required=True),
        dsl.Field("path", 2, dsl.STRING, "The Gluster volume's path.", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
    ),
)


PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
    "Mounts the volume bound to a PersistentVolumeClaim in the pod's namespace.",
    (
        dsl.Field("claimName", 1, dsl.STRING, "The claim's name.", required=True),
        dsl.Field("readOnly", 2, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
    ),
)


RBD_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.RBDVolumeSource",
    "A Ceph RADOS block device (deprecated in-tree plugin).",
    (
        dsl.Field("monitors", 1, dsl.STRING, "The Ceph monitors.", repeated=True, required=True, list_type="atomic"),
        dsl.Field("image", 2, dsl.STRING, "The RADOS image's name.", required=True),
        dsl.Field("fsType", 3, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("pool", 4, dsl.STRING, "The RADOS pool. Defaults to rbd."),
        dsl.Field("user", 5, dsl.STRING, "The RADOS user. Defaults to admin."),
        dsl.Field("keyring", 6, dsl.STRING, "The keyring file for the user. Defaults to /etc/ceph/keyring."),
        dsl.Field("secretRef", 7, common.LOCAL_OBJECT_REFERENCE, "The Secret holding the user's key; overrides "
                  "keyring.", pointer=True),
        dsl.Field("readOnly", 8, dsl.BOOL, "Mount the device read-only. Defaults to false."),
    ),
)


FLEX_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.FlexVolumeSource",
    "A volume attached and mounted by an exec-based FlexVolume driver (deprecated: use CSI).",
    (
        dsl.Field("driver", 1, dsl.STRING, "The driver's name.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type; the driver's default when empty."),
        dsl.Field("secretRef", 3, common.LOCAL_OBJECT_REFERENCE, "A Secret whose data is passed to the driver.",
                  pointer=True),
        dsl.Field("readOnly", 4, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
        dsl.Field("options", 5, dsl.STRING, "Extra options passed to the driver.", map=True),
    ),
)


CINDER_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.CinderVolumeSource",
    "An OpenStack Cinder volume (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("volumeID", 1, dsl.STRING, "The Cinder volume's ID.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("readOnly", 3, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
        dsl.Field("secretRef", 4, common.LOCAL_OBJECT_REFERENCE, "A Secret holding the OpenStack connection "
                  "parameters.", pointer=True),
    ),
)


CEPH_FS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.CephFSVolumeSource",
    "A CephFS filesystem (deprecated in-tree plugin).",
    (
        dsl.Field("monitors", 1, dsl.STRING, "The Ceph monitors.", repeated=True, required=True, list_type="atomic"),
        dsl.Field("path", 2, dsl.STRING, "The directory of the filesystem to mount as root. Defaults to /."),
        dsl.Field("user", 3, dsl.STRING, "The RADOS user. Defaults to admin."),
        dsl.Field("secretFile", 4, dsl.STRING, "The key ring file of the user. Defaults to /etc/ceph/user.secret."),
        dsl.Field("secretRef", 5, common.LOCAL_OBJECT_REFERENCE, "The Secret holding the user's key; overrides "
                  "secretFile.", pointer=True),
        dsl.Field("readOnly", 6, dsl.BOOL, "Mount the filesystem read-only. Defaults to false."),
    ),
)


FLOCKER_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.FlockerVolumeSource",
    "A Flocker dataset (deprecated, no longer supported); set exactly one of the two fields.",
    (
        dsl.Field("datasetName", 1, dsl.STRING, "The dataset's name (deprecated)."),
        dsl.Field("datasetUUID", 2, dsl.STRING, "The dataset's UUID."),
    ),
)


DOWNWARD_API_VOLUME_FILE = dsl.Message(
    "io.k8s.api.core.v1.DownwardAPIVolumeFile",
    "One file of a downward API volume: a field of the pod, or a resource of a container.",
    (
        dsl.Field("path", 1, dsl.STRING, "The file's relative path; may not contain '..'.", required=True),
        dsl.Field("fieldRef", 2, common.OBJECT_FIELD_SELECTOR, "A field of the pod: metadata.name, "
                  "metadata.namespace, metadata.uid, metadata.labels or metadata.annotations.", pointer=True),
        dsl.Field("resourceFieldRef", 3, common.RESOURCE_FIELD_SELECTOR, "A container's resource limit or request "
                  "(limits.cpu, requests.memory, ...).", pointer=True),
        dsl.Field("mode", 4, dsl.INT32, "The file's permission bits (0 to 0777). Defaults to the volume's "
                  "defaultMode.", pointer=True),
        dsl.Field("user", 5, dsl.INT64, "The UID that owns the file, overriding the volume's defaultUser (alpha).",
                  pointer=True),
    ),
)


DOWNWARD_API_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.DownwardAPIVolumeSource",
    "Files holding fields of the pod and resources of its containers, kept up to date.",
    (
        dsl.Field("items", 1, DOWNWARD_API_VOLUME_FILE, "The files.", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 2, dsl.INT32, "Permission bits of the files (0 to 0777). Defaults to 0644.",
                  pointer=True),
        dsl.Field("defaultUser", 3, dsl.INT64, "The UID that owns the files, unless an item sets its own (alpha).",
                  pointer=True),
    ),
)


FC_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.FCVolumeSource",
    "A Fibre Channel volume, attachable read/write by one node at a time. Set wwids, or targetWWNs with lun.",
    (
        dsl.Field("targetWWNs", 1, dsl.STRING, "The target world wide names.", repeated=True, list_type="atomic"),
        dsl.Field("lun", 2, dsl.INT32, "The target's logical unit number.", pointer=True),
        dsl.Field("fsType", 3, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("readOnly", 4, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
        dsl.Field("wwids", 5, dsl.STRING, "The volume's world wide identifiers.", repeated=True, list_type="atomic"),
    ),
)


AZURE_FILE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.AzureFileVolumeSource",
    "An Azure Files share (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("secretName", 1, dsl.STRING, "The Secret holding the storage account's name and key.",
                  required=True),
        dsl.Field("shareName", 2, dsl.STRING, "The share's name.", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "Mount the share read-only. Defaults to false."),
    ),
)


CONFIG_MAP_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapVolumeSource",
    "A ConfigMap's keys, each as a file in the volume.",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("items", 2, common.KEY_TO_PATH, "Which keys to project and where; unset projects every key as a "
                  "file of its own name.", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 3, dsl.INT32, "Permission bits of the files (0 to 0777). Defaults to 0644.",
                  pointer=True),
        dsl.Field("optional", 4, dsl.BOOL, "When true, a missing ConfigMap or key is not an error.", pointer=True),
        dsl.Field("defaultUser", 5, dsl.INT64, "The UID that owns the files, unless an item sets its own (alpha).",
                  pointer=True),
    ),
)


VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource",
    "A vSphere virtual disk (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("volumePath", 1, dsl.STRING, "The path of the disk's VMDK.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("storagePolicyName", 3, dsl.STRING, "The storage policy (SPBM) profile's name."),
        dsl.Field("storagePolicyID", 4, dsl.STRING, "The storage policy (SPBM) profile's ID."),
    ),
)


QUOBYTE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.QuobyteVolumeSource",
    "A Quobyte volume (deprecated, no longer supported).",
    (
        dsl.Field("registry", 1, dsl.STRING, "The Quobyte registry services, as host:port pairs separated by commas.",
                  required=True),
        dsl.Field("volume", 2, dsl.STRING, "The name of an existing Quobyte volume.", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
        dsl.Field("user", 4, dsl.STRING, "The user volume access maps to. Defaults to the service account user."),
        dsl.Field("group", 5, dsl.STRING, "The group volume access maps to. Defaults to none."),
        dsl.Field("tenant", 6, dsl.STRING, "The tenant owning the volume in the backend."),
    ),
)


AZURE_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.AzureDiskVolumeSource",
    "An Azure data disk (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("diskName", 1, dsl.STRING, "The data disk's name in blob storage.", required=True),
        dsl.Field("diskURI", 2, dsl.STRING, "The data disk's URI in blob storage.", required=True),
        dsl.Field("cachingMode", 3, dsl.STRING, "Host caching: None, ReadOnly or ReadWrite.", pointer=True,
                  enum=("None", "ReadOnly", "ReadWrite")),
        dsl.Field("fsType", 4, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty.", pointer=True),
        dsl.Field("readOnly", 5, dsl.BOOL, "Mount the disk read-only. Defaults to false.", pointer=True),
        dsl.Field("kind", 6, dsl.STRING, "Shared (several disks per storage account), Dedicated (one per account) or "
                  "Managed (Azure managed disk, the default).", pointer=True,
                  enum=("Shared", "Dedicated", "Managed")),
    ),
)


PHOTON_PERSISTENT_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource",
    "A Photon Controller persistent disk (deprecated, no longer supported).",
    (
        dsl.Field("pdID", 1, dsl.STRING, "The disk's ID.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
    ),
)


SECRET_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.SecretProjection",
    "A Secret's keys as files in a projected volume.",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("items", 2, common.KEY_TO_PATH, "Which keys to project and where; unset projects every key as a "
                  "file of its own name.", repeated=True, list_type="atomic"),
        dsl.Field("optional", 4, dsl.BOOL, "When true, a missing Secret or key is not an error.", pointer=True),
    ),
)


DOWNWARD_API_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.DownwardAPIProjection",
    "Fields of the pod and resources of its containers as files in a projected volume.",
    (
        dsl.Field("items", 1, DOWNWARD_API_VOLUME_FILE, "The files.", repeated=True, list_type="atomic"),
    ),
)


CONFIG_MAP_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapProjection",
    "A ConfigMap's keys as files in a projected volume.",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("items", 2, common.KEY_TO_PATH, "Which keys to project and where; unset projects every key as a "
                  "file of its own name.", repeated=True, list_type="atomic"),
        dsl.Field("optional", 4, dsl.BOOL, "When true, a missing ConfigMap or key is not an error.", pointer=True),
    ),
)


SERVICE_ACCOUNT_TOKEN_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.ServiceAccountTokenProjection",
    "A token of the pod's service account as a file, renewed by the kubelet before it expires.",
    (
        dsl.Field("audience", 1, dsl.STRING, "The audience the token is for. Defaults to the API server's "
                  "identifier."),
        dsl.Field("expirationSeconds", 2, dsl.INT64, "How long the token is valid, at least 600 seconds. Defaults to "
                  "3600.", pointer=True),
        dsl.Field("path", 3, dsl.STRING, "The file's path, relative to the volume.", required=True),
        dsl.Field("user", 4, dsl.INT64, "The UID that owns the file, overriding the volume's defaultUser (alpha).",
                  pointer=True),
    ),
)


CLUSTER_TRUST_BUNDLE_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.ClusterTrustBundleProjection",
    "The certificates of ClusterTrustBundle objects as one PEM file, kept up to date. Give name, or signerName "
    "(and labelSelector).",
    (
        dsl.Field("name", 1, dsl.STRING, "A single ClusterTrustBundle, by name.", pointer=True),
        dsl.Field("signerName", 2, dsl.STRING, "Every ClusterTrustBundle of this signer, with labelSelector.",
                  pointer=True),
        dsl.Field("labelSelector", 3, meta_v1.LABEL_SELECTOR, "With signerName: which of the signer's bundles to "
                  "include; unset selects none, empty selects all.", pointer=True),
        dsl.Field("optional", 5, dsl.BOOL, "When true, a missing bundle does not block the pod from starting.",
                  pointer=True),
        dsl.Field("path", 4, dsl.STRING, "The file's path, relative to the volume.", required=True),
        dsl.Field("user", 6, dsl.INT64, "The UID that owns the file, overriding the volume's defaultUser (alpha).",
                  pointer=True),
    ),
)


POD_CERTIFICATE_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.PodCertificateProjection",
    "A private key and an X.509 certificate for the pod, issued through a signer and rotated by the kubelet.",
    (
        dsl.Field("signerName", 1, dsl.STRING, "The signer the kubelet's certificate requests are addressed to."),
        dsl.Field("keyType", 2, dsl.STRING, "The key type to generate: RSA3072, RSA4096, ECDSAP256, ECDSAP384, "
                  "ECDSAP521 or ED25519."),
        dsl.Field("maxExpirationSeconds", 3, dsl.INT32, "The longest validity the certificate may have; the signer "
                  "may choose less.", pointer=True),
        dsl.Field("credentialBundlePath", 4, dsl.STRING, "Where to write the key and certificate chain together, as "
                  "one PEM file."),
        dsl.Field("keyPath", 5, dsl.STRING, "Where to write the private key alone (with certificateChainPath)."),
        dsl.Field("certificateChainPath", 6, dsl.STRING, "Where to write the certificate chain alone (with keyPath)."
                  ),
        dsl.Field("userAnnotations", 7, dsl.STRING, "Extra information passed to the signer.", map=True),
        dsl.Field("user", 8, dsl.INT64, "The UID that owns the files, overriding the volume's defaultUser (alpha).",
                  pointer=True),
    ),
)


VOLUME_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.VolumeProjection",
    "One source of a projected volume; set exactly one field.",
    (
        dsl.Field("secret", 1, SECRET_PROJECTION, "Keys of a Secret.", pointer=True),
        dsl.Field("downwardAPI", 2, DOWNWARD_API_PROJECTION, "Fields of the pod and resources of its containers.",
                  pointer=True),
        dsl.Field("configMap", 3, CONFIG_MAP_PROJECTION, "Keys of a ConfigMap.", pointer=True),
        dsl.Field("serviceAccountToken", 4, SERVICE_ACCOUNT_TOKEN_PROJECTION, "A service account token.",
                  pointer=True),
        dsl.Field("clusterTrustBundle", 5, CLUSTER_TRUST_BUNDLE_PROJECTION, "Certificates from ClusterTrustBundle "
                  "objects.", pointer=True),
        dsl.Field("podCertificate", 6, POD_CERTIFICATE_PROJECTION, "A key and certificate issued for the pod.",
                  pointer=True),
    ),
)


PROJECTED_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ProjectedVolumeSource",
    "Several sources (Secrets, ConfigMaps, downward API, tokens) projected into one directory.",
    (
        dsl.Field("sources", 1, VOLUME_PROJECTION, "The sources, each a set of files.", repeated=True,
                  list_type="atomic"),
        dsl.Field("defaultMode", 2, dsl.INT32, "Permission bits of the files (0 to 0777). Defaults to 0644.",
                  pointer=True),
        dsl.Field("defaultUser", 3, dsl.INT64, "The UID that owns the files, unless an item sets its own (alpha).",
                  pointer=True),
    ),
)


PORTWORX_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.PortworxVolumeSource",
    "A Portworx volume (deprecated in-tree plugin; use the CSI driver).",
    (
        dsl.Field("volumeID", 1, dsl.STRING, "The Portworx volume's ID.", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("readOnly", 3, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
    ),
)


SCALE_IO_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ScaleIOVolumeSource",
    "A ScaleIO volume (deprecated, no longer supported).",
    (
        dsl.Field("gateway", 1, dsl.STRING, "The ScaleIO API gateway's address.", required=True),
        dsl.Field("system", 2, dsl.STRING, "The ScaleIO storage system's name.", required=True),
        dsl.Field("secretRef", 3, common.LOCAL_OBJECT_REFERENCE, "The Secret holding the ScaleIO user's credentials.",
                  pointer=True, required=True),
        dsl.Field("sslEnabled", 4, dsl.BOOL, "Talk to the gateway over SSL. Defaults to false."),
        dsl.Field("protectionDomain", 5, dsl.STRING, "The ScaleIO protection domain."),
        dsl.Field("storagePool", 6, dsl.STRING, "The ScaleIO storage pool."),
        dsl.Field("storageMode", 7, dsl.STRING, "ThickProvisioned or ThinProvisioned (the default)."),
        dsl.Field("volumeName", 8, dsl.STRING, "The name of an existing ScaleIO volume."),
        dsl.Field("fsType", 9, dsl.STRING, "The filesystem type to mount. Defaults to xfs."),
        dsl.Field("readOnly", 10, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
    ),
)


STORAGE_OS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.StorageOSVolumeSource",
    "A StorageOS volume (deprecated, no longer supported).",
    (
        dsl.Field("volumeName", 1, dsl.STRING, "The StorageOS volume's name, unique within its StorageOS namespace."),
        dsl.Field("volumeNamespace", 2, dsl.STRING, "The StorageOS namespace of the volume. Defaults to the pod's "
                  "namespace."),
        dsl.Field("fsType", 3, dsl.STRING, "The filesystem type to mount, such as ext4 or xfs; inferred as ext4 when "
                  "empty."),
        dsl.Field("readOnly", 4, dsl.BOOL, "Mount the volume read-only. Defaults to false."),
        dsl.Field("secretRef", 5, common.LOCAL_OBJECT_REFERENCE, "The Secret holding the StorageOS API credentials.",
                  pointer=True),
    ),
)


CSI_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.CSIVolumeSource",
    "An ephemeral inline volume provided by a CSI driver.",
    (
        dsl.Field("driver", 1, dsl.STRING, "The CSI driver's registered name.", required=True),
        dsl.Field("readOnly", 2, dsl.BOOL, "Mount the volume read-only. Defaults to false.", pointer=True),
        dsl.Field("fsType", 3, dsl.STRING, "The filesystem type; the driver chooses when empty.", pointer=True),
        dsl.Field("volumeAttributes", 4, dsl.STRING, "Driver-specific properties passed to the driver.", map=True),
        dsl.Field("nodePublishSecretRef", 5, common.LOCAL_OBJECT_REFERENCE, "A Secret whose data is passed to the "
                  "driver when the volume is mounted.", pointer=True),
    ),
)


VOLUME_RESOURCE_REQUIREMENTS = dsl.Message(
    "io.k8s.api.core.v1.VolumeResourceRequirements",
    "The storage a volume needs.",
    (
        dsl.Field("limits", 1, dsl.QUANTITY, "The most storage the volume may have.", map=True),
        dsl.Field("requests", 2, dsl.QUANTITY, "The least storage the volume must have; defaults to limits.",
                  map=True),
    ),
)


PERSISTENT_VOLUME_CLAIM_SPEC = dsl.Message(
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
    "What a claim asks of its volume: size, access modes, class, and an optional data source.",
    (
        dsl.Field("accessModes", 1, dsl.STRING, "How the volume may be mounted: ReadWriteOnce, ReadOnlyMany, "
                  "ReadWriteMany or ReadWriteOncePod.", repeated=True,
                  enum=("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"), list_type="atomic"),
        dsl.Field("selector", 4, meta_v1.LABEL_SELECTOR, "Labels the bound PersistentVolume must have.",
                  pointer=True),
        dsl.Field("resources", 2, VOLUME_RESOURCE_REQUIREMENTS, "The storage size requested."),
        dsl.Field("volumeName", 3, dsl.STRING, "The PersistentVolume the claim is (or is to be) bound to."),
        dsl.Field("storageClassName", 5, dsl.STRING, "The StorageClass to provision from; \"\" asks for a volume "
                  "without a class, unset uses the default class.", pointer=True),
        dsl.Field("volumeMode", 6, dsl.STRING, "Filesystem (the default) or Block.", pointer=True,
                  enum=("Block", "Filesystem")),
        dsl.Field("dataSource", 7, common.TYPED_LOCAL_OBJECT_REFERENCE, "An object to fill the new volume from: a "
                  "VolumeSnapshot, another claim, or a populator's object (same namespace).", pointer=True),
        dsl.Field("dataSourceRef", 8, common.TYPED_OBJECT_REFERENCE, "Like dataSource, for any populator's object, "
                  "possibly in another namespace.", pointer=True),
        dsl.Field("volumeAttributesClassName", 9, dsl.STRING, "The VolumeAttributesClass the volume should have, for "
                  "mutable attributes such as IOPS.", pointer=True),
    ),
)


PERSISTENT_VOLUME_CLAIM_TEMPLATE = dsl.Message(
    "io.k8s.api.core.v1.PersistentVolumeClaimTemplate",
    "The claim an ephemeral volume creates.",
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Labels and annotations copied to the claim; other metadata is "
                  "not allowed."),
        dsl.Field("spec", 2, PERSISTENT_VOLUME_CLAIM_SPEC, "The claim's spec, copied as it is.", required=True),
    ),
)


EPHEMERAL_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EphemeralVolumeSource",
    "A volume from a storage driver that lives and dies with the pod, through a claim the pod owns (named "
    "<pod>-<volume>).",
    (
        dsl.Field("volumeClaimTemplate", 1, PERSISTENT_VOLUME_CLAIM_TEMPLATE, "The claim to create for the volume.",
                  pointer=True),
    ),
)


IMAGE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ImageVolumeSource",
    "The contents of a container image or OCI artifact, mounted read-only.",
    (
        dsl.Field("reference", 1, dsl.STRING, "The image or artifact reference, as a container's image."),
        dsl.Field("pullPolicy", 2, dsl.STRING, "Always, Never or IfNotPresent. Defaults to Always for :latest, else "
                  "IfNotPresent.", enum=("Always", "Never", "IfNotPresent")),
    ),
)


VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.VolumeSource",
    "Where a volume's data comes from; set exactly one field.",
    (
        dsl.Field("hostPath", 1, HOST_PATH_VOLUME_SOURCE, "A path on the node.", pointer=True),
        dsl.Field("emptyDir", 2, EMPTY_DIR_VOLUME_SOURCE, "An empty directory that lives as long as the pod.",
                  pointer=True),
        dsl.Field("gcePersistentDisk", 3, GCE_PERSISTENT_DISK_VOLUME_SOURCE, "A GCE persistent disk (deprecated).",
                  pointer=True),
        dsl.Field("awsElasticBlockStore", 4, AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE, "An AWS EBS volume (deprecated).",
                  pointer=True),
        dsl.Field("gitRepo", 5, GIT_REPO_VOLUME_SOURCE, "A git repository clone (deprecated).", pointer=True),
        dsl.Field("secret", 6, SECRET_VOLUME_SOURCE, "A Secret's keys as files.", pointer=True),
        dsl.Field("nfs", 7, NFS_VOLUME_SOURCE, "An NFS export.", pointer=True),
        dsl.Field("iscsi", 8, ISCSI_VOLUME_SOURCE, "An iSCSI disk.", pointer=True),
        dsl.Field("glusterfs", 9, GLUSTERFS_VOLUME_SOURCE, "A GlusterFS volume (deprecated).", pointer=True),
        dsl.Field("persistentVolumeClaim", 10, PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE, "The volume bound to a "
                  "PersistentVolumeClaim.", pointer=True),
        dsl.Field("rbd", 11, RBD_VOLUME_SOURCE, "A Ceph RADOS block device (deprecated).", pointer=True),
        dsl.Field("flexVolume", 12, FLEX_VOLUME_SOURCE, "A FlexVolume driver's volume (deprecated).", pointer=True),
        dsl.Field("cinder", 13, CINDER_VOLUME_SOURCE, "An OpenStack Cinder volume (deprecated).", pointer=True),
        dsl.Field("cephfs", 14, CEPH_FS_VOLUME_SOURCE, "A CephFS filesystem (deprecated).", pointer=True),
        dsl.Field("flocker", 15, FLOCKER_VOLUME_SOURCE, "A Flocker dataset (deprecated).", pointer=True),
        dsl.Field("downwardAPI", 16, DOWNWARD_API_VOLUME_SOURCE, "Fields of the pod and resources of its containers "
                  "as files.", pointer=True),
        dsl.Field("fc", 17, FC_VOLUME_SOURCE, "A Fibre Channel volume.", pointer=True),
        dsl.Field("azureFile", 18, AZURE_FILE_VOLUME_SOURCE, "An Azure Files share (deprecated).", pointer=True),
        dsl.Field("configMap", 19, CONFIG_MAP_VOLUME_SOURCE, "A ConfigMap's keys as files.", pointer=True),
        dsl.Field("vsphereVolume", 20, VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE, "A vSphere virtual disk (deprecated).",
                  pointer=True),
        dsl.Field("quobyte", 21, QUOBYTE_VOLUME_SOURCE, "A Quobyte volume (deprecated).", pointer=True),
        dsl.Field("azureDisk", 22, AZURE_DISK_VOLUME_SOURCE, "An Azure data disk (deprecated).", pointer=True),
        dsl.Field("photonPersistentDisk", 23, PHOTON_PERSISTENT_DISK_VOLUME_SOURCE, "A Photon Controller disk "
                  "(deprecated).", pointer=True),
        dsl.Field("projected", 26, PROJECTED_VOLUME_SOURCE, "Several sources projected into one directory.",
                  pointer=True),
        dsl.Field("portworxVolume", 24, PORTWORX_VOLUME_SOURCE, "A Portworx volume (deprecated).", pointer=True),
        dsl.Field("scaleIO", 25, SCALE_IO_VOLUME_SOURCE, "A ScaleIO volume (deprecated).", pointer=True),
        dsl.Field("storageos", 27, STORAGE_OS_VOLUME_SOURCE, "A StorageOS volume (deprecated).", pointer=True),
        dsl.Field("csi", 28, CSI_VOLUME_SOURCE, "An ephemeral volume from a CSI driver.", pointer=True),
        dsl.Field("ephemeral", 29, EPHEMERAL_VOLUME_SOURCE, "A volume from a storage driver, created and deleted "
                  "with the pod.", pointer=True),
        dsl.Field("image", 30, IMAGE_VOLUME_SOURCE, "The contents of a container image or OCI artifact.",
                  pointer=True),
    ),
)


VOLUME = dsl.Message(
    "io.k8s.api.core.v1.Volume",
    "A named volume the pod's containers can mount.",
    (
        dsl.Field("name", 1, dsl.STRING, "The volume's name, a DNS label unique in the pod; volume mounts refer to "
                  "it.", required=True),
        dsl.Field("", 2, VOLUME_SOURCE, "", inline=True),
    ),
)
