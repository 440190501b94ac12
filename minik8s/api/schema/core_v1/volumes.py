"""core/v1: Volume and every volume source a pod can declare.

Most in-tree sources (awsElasticBlockStore, cinder, ...) are deprecated upstream and
not run by minik8s's kubelet, but they are declared so that manifests using them
decode, validate and print in `kubectl explain` as on Kubernetes.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common

EVICTION_RESPONDER = dsl.Message(
    "io.k8s.api.core.v1.EvictionResponder",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("priority", 2, dsl.INT32, "TODO", pointer=True, required=True),
    ),
    map_type="atomic",
)


HOST_PATH_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.HostPathVolumeSource",
    "TODO",
    (
        dsl.Field("path", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("type", 2, dsl.STRING, "TODO", pointer=True,
                  enum=("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")),
    ),
)


EMPTY_DIR_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EmptyDirVolumeSource",
    "TODO",
    (
        dsl.Field("medium", 1, dsl.STRING, "TODO"),
        dsl.Field("sizeLimit", 2, dsl.QUANTITY, "TODO", pointer=True),
        dsl.Field("mode", 3, dsl.INT32, "TODO", pointer=True),
    ),
)


GCE_PERSISTENT_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
    "TODO",
    (
        dsl.Field("pdName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
        dsl.Field("partition", 3, dsl.INT32, "TODO"),
        dsl.Field("readOnly", 4, dsl.BOOL, "TODO"),
    ),
)


AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
    "TODO",
    (
        dsl.Field("volumeID", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
        dsl.Field("partition", 3, dsl.INT32, "TODO"),
        dsl.Field("readOnly", 4, dsl.BOOL, "TODO"),
    ),
)


GIT_REPO_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.GitRepoVolumeSource",
    "TODO",
    (
        dsl.Field("repository", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("revision", 2, dsl.STRING, "TODO"),
        dsl.Field("directory", 3, dsl.STRING, "TODO"),
    ),
)


SECRET_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.SecretVolumeSource",
    "TODO",
    (
        dsl.Field("secretName", 1, dsl.STRING, "TODO"),
        dsl.Field("items", 2, common.KEY_TO_PATH, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 3, dsl.INT32, "TODO", pointer=True),
        dsl.Field("optional", 4, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("defaultUser", 5, dsl.INT64, "TODO", pointer=True),
    ),
)


NFS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.NFSVolumeSource",
    "TODO",
    (
        dsl.Field("server", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("path", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
    ),
)


ISCSI_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ISCSIVolumeSource",
    "TODO",
    (
        dsl.Field("targetPortal", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("iqn", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("lun", 3, dsl.INT32, "TODO", required=True),
        dsl.Field("iscsiInterface", 4, dsl.STRING, "TODO"),
        dsl.Field("fsType", 5, dsl.STRING, "TODO"),
        dsl.Field("readOnly", 6, dsl.BOOL, "TODO"),
        dsl.Field("portals", 7, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("chapAuthDiscovery", 8, dsl.BOOL, "TODO"),
        dsl.Field("chapAuthSession", 11, dsl.BOOL, "TODO"),
        dsl.Field("secretRef", 10, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("initiatorName", 12, dsl.STRING, "TODO", pointer=True),
    ),
)


GLUSTERFS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.GlusterfsVolumeSource",
    "TODO",
    (
        dsl.Field("endpoints", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("path", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
    ),
)


PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
    "TODO",
    (
        dsl.Field("claimName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 2, dsl.BOOL, "TODO"),
    ),
)


RBD_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.RBDVolumeSource",
    "TODO",
    (
        dsl.Field("monitors", 1, dsl.STRING, "TODO", repeated=True, required=True, list_type="atomic"),
        dsl.Field("image", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 3, dsl.STRING, "TODO"),
        dsl.Field("pool", 4, dsl.STRING, "TODO"),
        dsl.Field("user", 5, dsl.STRING, "TODO"),
        dsl.Field("keyring", 6, dsl.STRING, "TODO"),
        dsl.Field("secretRef", 7, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("readOnly", 8, dsl.BOOL, "TODO"),
    ),
)


FLEX_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.FlexVolumeSource",
    "TODO",
    (
        dsl.Field("driver", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
        dsl.Field("secretRef", 3, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("readOnly", 4, dsl.BOOL, "TODO"),
        dsl.Field("options", 5, dsl.STRING, "TODO", map=True),
    ),
)


CINDER_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.CinderVolumeSource",
    "TODO",
    (
        dsl.Field("volumeID", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
        dsl.Field("secretRef", 4, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
    ),
)


CEPH_FS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.CephFSVolumeSource",
    "TODO",
    (
        dsl.Field("monitors", 1, dsl.STRING, "TODO", repeated=True, required=True, list_type="atomic"),
        dsl.Field("path", 2, dsl.STRING, "TODO"),
        dsl.Field("user", 3, dsl.STRING, "TODO"),
        dsl.Field("secretFile", 4, dsl.STRING, "TODO"),
        dsl.Field("secretRef", 5, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("readOnly", 6, dsl.BOOL, "TODO"),
    ),
)


FLOCKER_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.FlockerVolumeSource",
    "TODO",
    (
        dsl.Field("datasetName", 1, dsl.STRING, "TODO"),
        dsl.Field("datasetUUID", 2, dsl.STRING, "TODO"),
    ),
)


DOWNWARD_API_VOLUME_FILE = dsl.Message(
    "io.k8s.api.core.v1.DownwardAPIVolumeFile",
    "TODO",
    (
        dsl.Field("path", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fieldRef", 2, common.OBJECT_FIELD_SELECTOR, "TODO", pointer=True),
        dsl.Field("resourceFieldRef", 3, common.RESOURCE_FIELD_SELECTOR, "TODO", pointer=True),
        dsl.Field("mode", 4, dsl.INT32, "TODO", pointer=True),
        dsl.Field("user", 5, dsl.INT64, "TODO", pointer=True),
    ),
)


DOWNWARD_API_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.DownwardAPIVolumeSource",
    "TODO",
    (
        dsl.Field("items", 1, DOWNWARD_API_VOLUME_FILE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 2, dsl.INT32, "TODO", pointer=True),
        dsl.Field("defaultUser", 3, dsl.INT64, "TODO", pointer=True),
    ),
)


FC_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.FCVolumeSource",
    "TODO",
    (
        dsl.Field("targetWWNs", 1, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("lun", 2, dsl.INT32, "TODO", pointer=True),
        dsl.Field("fsType", 3, dsl.STRING, "TODO"),
        dsl.Field("readOnly", 4, dsl.BOOL, "TODO"),
        dsl.Field("wwids", 5, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


AZURE_FILE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.AzureFileVolumeSource",
    "TODO",
    (
        dsl.Field("secretName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("shareName", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
    ),
)


CONFIG_MAP_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapVolumeSource",
    "TODO",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("items", 2, common.KEY_TO_PATH, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 3, dsl.INT32, "TODO", pointer=True),
        dsl.Field("optional", 4, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("defaultUser", 5, dsl.INT64, "TODO", pointer=True),
    ),
)


VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource",
    "TODO",
    (
        dsl.Field("volumePath", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
        dsl.Field("storagePolicyName", 3, dsl.STRING, "TODO"),
        dsl.Field("storagePolicyID", 4, dsl.STRING, "TODO"),
    ),
)


QUOBYTE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.QuobyteVolumeSource",
    "TODO",
    (
        dsl.Field("registry", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("volume", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
        dsl.Field("user", 4, dsl.STRING, "TODO"),
        dsl.Field("group", 5, dsl.STRING, "TODO"),
        dsl.Field("tenant", 6, dsl.STRING, "TODO"),
    ),
)


AZURE_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.AzureDiskVolumeSource",
    "TODO",
    (
        dsl.Field("diskName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("diskURI", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("cachingMode", 3, dsl.STRING, "TODO", pointer=True, enum=("None", "ReadOnly", "ReadWrite")),
        dsl.Field("fsType", 4, dsl.STRING, "TODO", pointer=True),
        dsl.Field("readOnly", 5, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("kind", 6, dsl.STRING, "TODO", pointer=True, enum=("Shared", "Dedicated", "Managed")),
    ),
)


PHOTON_PERSISTENT_DISK_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource",
    "TODO",
    (
        dsl.Field("pdID", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
    ),
)


SECRET_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.SecretProjection",
    "TODO",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("items", 2, common.KEY_TO_PATH, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("optional", 4, dsl.BOOL, "TODO", pointer=True),
    ),
)


DOWNWARD_API_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.DownwardAPIProjection",
    "TODO",
    (
        dsl.Field("items", 1, DOWNWARD_API_VOLUME_FILE, "TODO", repeated=True, list_type="atomic"),
    ),
)


CONFIG_MAP_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapProjection",
    "TODO",
    (
        dsl.Field("", 1, common.LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("items", 2, common.KEY_TO_PATH, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("optional", 4, dsl.BOOL, "TODO", pointer=True),
    ),
)


SERVICE_ACCOUNT_TOKEN_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.ServiceAccountTokenProjection",
    "TODO",
    (
        dsl.Field("audience", 1, dsl.STRING, "TODO"),
        dsl.Field("expirationSeconds", 2, dsl.INT64, "TODO", pointer=True),
        dsl.Field("path", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("user", 4, dsl.INT64, "TODO", pointer=True),
    ),
)


CLUSTER_TRUST_BUNDLE_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.ClusterTrustBundleProjection",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("signerName", 2, dsl.STRING, "TODO", pointer=True),
        dsl.Field("labelSelector", 3, meta_v1.LABEL_SELECTOR, "TODO", pointer=True),
        dsl.Field("optional", 5, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("path", 4, dsl.STRING, "TODO", required=True),
        dsl.Field("user", 6, dsl.INT64, "TODO", pointer=True),
    ),
)


POD_CERTIFICATE_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.PodCertificateProjection",
    "TODO",
    (
        dsl.Field("signerName", 1, dsl.STRING, "TODO"),
        dsl.Field("keyType", 2, dsl.STRING, "TODO"),
        dsl.Field("maxExpirationSeconds", 3, dsl.INT32, "TODO", pointer=True),
        dsl.Field("credentialBundlePath", 4, dsl.STRING, "TODO"),
        dsl.Field("keyPath", 5, dsl.STRING, "TODO"),
        dsl.Field("certificateChainPath", 6, dsl.STRING, "TODO"),
        dsl.Field("userAnnotations", 7, dsl.STRING, "TODO", map=True),
        dsl.Field("user", 8, dsl.INT64, "TODO", pointer=True),
    ),
)


VOLUME_PROJECTION = dsl.Message(
    "io.k8s.api.core.v1.VolumeProjection",
    "TODO",
    (
        dsl.Field("secret", 1, SECRET_PROJECTION, "TODO", pointer=True),
        dsl.Field("downwardAPI", 2, DOWNWARD_API_PROJECTION, "TODO", pointer=True),
        dsl.Field("configMap", 3, CONFIG_MAP_PROJECTION, "TODO", pointer=True),
        dsl.Field("serviceAccountToken", 4, SERVICE_ACCOUNT_TOKEN_PROJECTION, "TODO", pointer=True),
        dsl.Field("clusterTrustBundle", 5, CLUSTER_TRUST_BUNDLE_PROJECTION, "TODO", pointer=True),
        dsl.Field("podCertificate", 6, POD_CERTIFICATE_PROJECTION, "TODO", pointer=True),
    ),
)


PROJECTED_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ProjectedVolumeSource",
    "TODO",
    (
        dsl.Field("sources", 1, VOLUME_PROJECTION, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("defaultMode", 2, dsl.INT32, "TODO", pointer=True),
        dsl.Field("defaultUser", 3, dsl.INT64, "TODO", pointer=True),
    ),
)


PORTWORX_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.PortworxVolumeSource",
    "TODO",
    (
        dsl.Field("volumeID", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("fsType", 2, dsl.STRING, "TODO"),
        dsl.Field("readOnly", 3, dsl.BOOL, "TODO"),
    ),
)


SCALE_IO_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ScaleIOVolumeSource",
    "TODO",
    (
        dsl.Field("gateway", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("system", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("secretRef", 3, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True, required=True),
        dsl.Field("sslEnabled", 4, dsl.BOOL, "TODO"),
        dsl.Field("protectionDomain", 5, dsl.STRING, "TODO"),
        dsl.Field("storagePool", 6, dsl.STRING, "TODO"),
        dsl.Field("storageMode", 7, dsl.STRING, "TODO"),
        dsl.Field("volumeName", 8, dsl.STRING, "TODO"),
        dsl.Field("fsType", 9, dsl.STRING, "TODO"),
        dsl.Field("readOnly", 10, dsl.BOOL, "TODO"),
    ),
)


STORAGE_OS_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.StorageOSVolumeSource",
    "TODO",
    (
        dsl.Field("volumeName", 1, dsl.STRING, "TODO"),
        dsl.Field("volumeNamespace", 2, dsl.STRING, "TODO"),
        dsl.Field("fsType", 3, dsl.STRING, "TODO"),
        dsl.Field("readOnly", 4, dsl.BOOL, "TODO"),
        dsl.Field("secretRef", 5, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
    ),
)


CSI_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.CSIVolumeSource",
    "TODO",
    (
        dsl.Field("driver", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("readOnly", 2, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("fsType", 3, dsl.STRING, "TODO", pointer=True),
        dsl.Field("volumeAttributes", 4, dsl.STRING, "TODO", map=True),
        dsl.Field("nodePublishSecretRef", 5, common.LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
    ),
)


VOLUME_RESOURCE_REQUIREMENTS = dsl.Message(
    "io.k8s.api.core.v1.VolumeResourceRequirements",
    "TODO",
    (
        dsl.Field("limits", 1, dsl.QUANTITY, "TODO", map=True),
        dsl.Field("requests", 2, dsl.QUANTITY, "TODO", map=True),
    ),
)


PERSISTENT_VOLUME_CLAIM_SPEC = dsl.Message(
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
    "TODO",
    (
        dsl.Field("accessModes", 1, dsl.STRING, "TODO", repeated=True,
                  enum=("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"), list_type="atomic"),
        dsl.Field("selector", 4, meta_v1.LABEL_SELECTOR, "TODO", pointer=True),
        dsl.Field("resources", 2, VOLUME_RESOURCE_REQUIREMENTS, "TODO"),
        dsl.Field("volumeName", 3, dsl.STRING, "TODO"),
        dsl.Field("storageClassName", 5, dsl.STRING, "TODO", pointer=True),
        dsl.Field("volumeMode", 6, dsl.STRING, "TODO", pointer=True, enum=("Block", "Filesystem")),
        dsl.Field("dataSource", 7, common.TYPED_LOCAL_OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("dataSourceRef", 8, common.TYPED_OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("volumeAttributesClassName", 9, dsl.STRING, "TODO", pointer=True),
    ),
)


PERSISTENT_VOLUME_CLAIM_TEMPLATE = dsl.Message(
    "io.k8s.api.core.v1.PersistentVolumeClaimTemplate",
    "TODO",
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, PERSISTENT_VOLUME_CLAIM_SPEC, "TODO", required=True),
    ),
)


EPHEMERAL_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EphemeralVolumeSource",
    "TODO",
    (
        dsl.Field("volumeClaimTemplate", 1, PERSISTENT_VOLUME_CLAIM_TEMPLATE, "TODO", pointer=True),
    ),
)


IMAGE_VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.ImageVolumeSource",
    "TODO",
    (
        dsl.Field("reference", 1, dsl.STRING, "TODO"),
        dsl.Field("pullPolicy", 2, dsl.STRING, "TODO", enum=("Always", "Never", "IfNotPresent")),
    ),
)


VOLUME_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.VolumeSource",
    "TODO",
    (
        dsl.Field("hostPath", 1, HOST_PATH_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("emptyDir", 2, EMPTY_DIR_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("gcePersistentDisk", 3, GCE_PERSISTENT_DISK_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("awsElasticBlockStore", 4, AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("gitRepo", 5, GIT_REPO_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("secret", 6, SECRET_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("nfs", 7, NFS_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("iscsi", 8, ISCSI_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("glusterfs", 9, GLUSTERFS_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("persistentVolumeClaim", 10, PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("rbd", 11, RBD_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("flexVolume", 12, FLEX_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("cinder", 13, CINDER_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("cephfs", 14, CEPH_FS_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("flocker", 15, FLOCKER_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("downwardAPI", 16, DOWNWARD_API_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("fc", 17, FC_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("azureFile", 18, AZURE_FILE_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("configMap", 19, CONFIG_MAP_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("vsphereVolume", 20, VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("quobyte", 21, QUOBYTE_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("azureDisk", 22, AZURE_DISK_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("photonPersistentDisk", 23, PHOTON_PERSISTENT_DISK_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("projected", 26, PROJECTED_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("portworxVolume", 24, PORTWORX_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("scaleIO", 25, SCALE_IO_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("storageos", 27, STORAGE_OS_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("csi", 28, CSI_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("ephemeral", 29, EPHEMERAL_VOLUME_SOURCE, "TODO", pointer=True),
        dsl.Field("image", 30, IMAGE_VOLUME_SOURCE, "TODO", pointer=True),
    ),
)


VOLUME = dsl.Message(
    "io.k8s.api.core.v1.Volume",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("", 2, VOLUME_SOURCE, "", inline=True),
    ),
)
